"""Structured metadata a page declares about itself: JSON-LD, Open Graph / meta tags, <link>, <html lang>."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import html as lxml_html
from lxml.etree import XPath

_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
    "liveblogposting", "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle",
    "socialmediaposting", "report", "scholarlyarticle", "techarticle",
}
_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}


@dataclass
class Structured:
    """What the page's markup declares; every field may be missing."""
    title: str | None = None
    html_title: str | None = None
    shown_titles: list[str] = field(default_factory=list)   # the <h1> texts: the headline as the page shows it
    site_name: str | None = None
    canonical_url: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    image_caption: str | None = None
    figure_caption: str | None = None   # the first visible photo caption (figcaption or .caption)
    language: str | None = None
    article_body: str | None = None
    live_updates: list[tuple[str, str]] = field(default_factory=list)  # a live blog's (headline, body) entries
    is_article: bool = False        # JSON-LD article type or og:type article
    is_listing: bool = False        # JSON-LD collection / list / search page


def read_structured(tree: lxml_html.HtmlElement) -> Structured:
    s = Structured()
    meta = _meta_tags(tree)
    ld = _jsonld_article(tree, s)
    s.title = _text(ld.get("headline")) or meta.get("og:title") or meta.get("twitter:title")
    s.html_title = _text(tree.findtext(".//title"))
    s.shown_titles = [t for t in (_text(h.text_content()) for h in _H1(tree)[:3]) if t]
    s.site_name = meta.get("og:site_name") or _name(ld.get("publisher")) or meta.get("application-name")
    s.canonical_url = _canonical(tree) or meta.get("og:url")
    s.authors = [n for n in (_name(a) for a in _as_list(ld.get("author"))) if n] or [
        a for a in meta.getall("author") + meta.getall("article:author") + meta.getall("byl")
        if not a.startswith("http")]
    s.published = (_text(ld.get("datePublished")) or meta.get("article:published_time")
                   or meta.get("og:published_time") or meta.get("pubdate") or meta.get("date")
                   or meta.get("parsely-pub-date") or meta.get("dc.date") or meta.get("sailthru.date")
                   or _time_element(tree))
    s.modified = (_text(ld.get("dateModified")) or meta.get("article:modified_time")
                  or meta.get("og:updated_time") or meta.get("lastmod"))
    s.description = meta.get("og:description") or meta.get("description") or _text(ld.get("description"))
    s.tags = _unique(meta.getall("article:tag") + _keywords(ld.get("keywords"))
                     + _keywords(meta.get("news_keywords") or meta.get("keywords")))
    image = _as_list(ld.get("image"))
    s.image = meta.get("og:image") or meta.get("twitter:image") or (_url(image[0]) if image else None)
    s.image_caption = _text(image[0].get("caption")) if image and isinstance(image[0], dict) else None
    s.figure_caption = _figure_caption(tree)
    s.language = _text(ld.get("inLanguage")) or tree.get("lang") or meta.get("og:locale")
    updates = [u for u in _as_list(ld.get("liveBlogUpdate")) if isinstance(u, dict)]
    s.live_updates = [(h, b) for h, b in ((_text(u.get("headline")), _text(u.get("articleBody"))) for u in updates) if h and b]
    bodies = [ld.get("articleBody")] + [u.get("articleBody") for u in updates]
    s.article_body = "\n".join(b for b in bodies if isinstance(b, str) and b.strip()) or None
    s.is_article = s.is_article or (meta.get("og:type") or "").lower() == "article"
    return s


class _Meta(dict):
    def __init__(self) -> None:
        super().__init__()
        self.all: dict[str, list[str]] = {}

    def getall(self, key: str) -> list[str]:
        return self.all.get(key, [])


def _meta_tags(tree) -> _Meta:
    meta = _Meta()
    for el in tree.iterfind(".//meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = _text(el.get("content"))
        if key and value:
            meta.setdefault(key, value)
            meta.all.setdefault(key, []).append(value)
    return meta


def _jsonld_article(tree, s: Structured) -> dict:
    """The JSON-LD article objects of the page merged into one (over @graph too), or {}."""
    best: dict = {}
    for script in tree.xpath('.//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        for obj in _flatten(data):
            types = {t.lower() for t in _as_list(obj.get("@type")) if isinstance(t, str)}
            if types & _LISTING_TYPES:
                s.is_listing = True
            if types & _ARTICLE_TYPES:  # several article objects: the first wins, later ones fill gaps
                for key, value in obj.items():
                    best.setdefault(key, value)
                s.is_article = True
    return best


def _flatten(data):
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten(data["@graph"])
        yield data


def _canonical(tree) -> str | None:
    for el in tree.iterfind(".//link"):
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
            return el.get("href").strip()
    return None


# A cheap XPath for candidates (string functions on every element's class cost 1.4 ms a page), the
# exact class rule in Python: a "caption" class, or one containing "caption-text" or "image-caption".
_CAPTIONS = XPath(".//figcaption | .//*[contains(@class, 'caption')]")


def _figure_caption(tree) -> str | None:
    for el in _CAPTIONS(tree):
        if el.tag != "figcaption":
            cls = el.get("class") or ""
            if "caption" not in cls.split() and "caption-text" not in cls and "image-caption" not in cls:
                continue
        text = _text(el.text_content())
        if text and len(text.split()) >= 3:
            return text
    return None


_TEXT_WITH = XPath("//body//text()[contains(., $needle)]")
_INLINE = {"a", "b", "strong", "em", "i", "span", "font", "mark", "small", "u", "q", "cite"}
_WORD = re.compile(r"\w+")


_DEK_CLASS = re.compile(r"sub-?head|\bdek\b|standfirst|summary|excerpt|strap|intro|lede|description", re.I)
_H1 = XPath("//body//h1")


def shown_standfirst(tree, description: str | None) -> str | None:
    """The standfirst (dek) the page shows under its headline, which extraction tends to miss (it sits
    outside the body's container) though it is the article's opening paragraph. Either the page's
    declared summary (its description) shown as an element's whole text (after a kicker of up to three
    words, or cut short for display after ten words or more), or the element right after
    the page's one <h1> when it is an h2 or its class says so (sub-headline, dek, standfirst, ...), of
    5 to 80 words. Never text in a link (a teaser); a plain <p> after the headline is as often a
    byline, a time line or a "listen to this article" widget."""
    return _described(tree, description) or _after_headline(tree)


def _after_headline(tree) -> str | None:
    h1 = _H1(tree)
    if len(h1) != 1:
        return None
    el = h1[0].getnext()
    if el is None or not isinstance(el.tag, str) or el.tag == "a" or el.find(".//a") is not None:
        return None
    if el.tag != "h2" and not _DEK_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return None
    text = " ".join(el.text_content().split())
    return text if 5 <= len(text.split()) <= 80 else None


def _described(tree, description: str | None) -> str | None:
    words = (description or "").split()
    if len(words) < 5:
        return None
    target = _WORD.findall(description.casefold())
    for node in _TEXT_WITH(tree, needle=" ".join(words[:4])):
        el = node.getparent()
        if node.is_tail and el is not None:   # text after a child (a <br>) belongs to the child's parent
            el = el.getparent()
        while el is not None and el.tag in _INLINE and el.getparent() is not None:
            el = el.getparent()
        if el is None or any(a.tag == "a" for a in el.iterancestors()) or el.tag == "a":
            continue
        shown = _WORD.findall(el.text_content().casefold())
        if shown[-len(target):] == target and len(shown) - len(target) <= 3:   # as declared, or after a kicker
            return " ".join(el.text_content().split())                        # ("(Outside Music)Recorded ...")
        if len(shown) >= 10 and target[:len(shown)] == shown:   # cut short for display: the whole of it
            return " ".join(words)
    return None


_POINTS_HEADINGS = {"key points", "key takeaways", "takeaways", "highlights", "in brief", "at a glance",
                    "what to know", "the big picture"}
# Short text nodes, compared in Python: an XPath that lower-cased every text node cost 45 ms a page.
_SHORT_TEXT = XPath("//body//text()[string-length(normalize-space(.)) > 5 and string-length(normalize-space(.)) < 20]")


def summary_points(tree) -> list[str]:
    """The summary bullets an article opens with ("Key Points", "Key takeaways", ...): the 2 to 6 items,
    of 6 to 80 words each, of the list right after such a heading. Not a menu of links."""
    for node in _SHORT_TEXT(tree):
        if " ".join(node.split()).lower() not in _POINTS_HEADINGS:
            continue
        heading = node.getparent()
        if heading is None or heading.tag == "a" or any(a.tag in ("a", "nav") for a in heading.iterancestors()):
            continue
        following = heading.getnext()
        if following is None or not isinstance(following.tag, str):
            continue
        items = [" ".join(li.text_content().split()) for li in following.iter("li")]
        links = sum(len(" ".join(a.text_content().split())) for a in following.iter("a"))
        if 2 <= len(items) <= 6 and all(6 <= len(i.split()) <= 80 for i in items) and links < sum(map(len, items)) / 2:
            return items
    return []


def _time_element(tree) -> str | None:
    for el in tree.iterfind(".//time"):
        if el.get("datetime"):
            return el.get("datetime").strip()
    return None


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _name(value) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("name"))
    if isinstance(value, list):
        return _name(value[0]) if value else None
    return _text(value)


def _url(value) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("url") or value.get("contentUrl"))
    return _text(value)


def _keywords(value) -> list[str]:
    if isinstance(value, list):
        return [k for k in (_text(v) for v in value) if k]
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return []


def _text(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
