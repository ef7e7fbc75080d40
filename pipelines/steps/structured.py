"""Structured metadata a page declares about itself: JSON-LD, Open Graph / meta tags, <link>, <html lang>."""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Iterator

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
    one_h1: bool = False            # the page has exactly one <h1>
    site_name: str | None = None
    canonical_url: str | None = None
    authors: list[str] = field(default_factory=list)
    credited: list[str] = field(default_factory=list)   # JSON-LD sourceOrganization and provider names
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


def read_structured(tree: lxml_html.HtmlElement, jsonld: bool = True, tags: bool = True) -> Structured:
    """What the page declares; `jsonld` / `tags` False leave that source out (for measuring)."""
    s = Structured()
    meta = _meta_tags(tree) if tags else _Meta()
    ld = _jsonld_article(tree, s) if jsonld else {}
    s.title = _text(ld.get("headline")) or meta.get("og:title") or meta.get("twitter:title")
    s.html_title = _text(tree.findtext(".//title"))
    h1 = _H1(tree)
    s.shown_titles = [t for t in (_text(h.text_content()) for h in h1[:3]) if t]
    s.one_h1 = len(h1) == 1 and bool(s.shown_titles)
    s.site_name = meta.get("og:site_name") or _name(ld.get("publisher")) or meta.get("application-name")
    s.canonical_url = _canonical(tree) or meta.get("og:url")
    # (the generic <meta name=author> gives way to a tag made for articles: it often names the publisher)
    s.authors = [n for a in _as_list(ld.get("author")) + _as_list(ld.get("creator")) for n in _names(a)] or (
        _tag_names(meta, _AUTHOR_TAGS) or _tag_names(meta, ("author",)) or (_rel_author(tree) if tags else []))
    s.credited = [n for key in ("sourceOrganization", "provider") for a in _as_list(ld.get(key)) for n in _names(a)]
    s.published = (_name(ld.get("datePublished")) or _name(ld.get("dateCreated"))
                   or next((meta.get(k) for k in _DATE_TAGS if meta.get(k)), None) or _time_element(tree))
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


# Where pages declare their authors and their date besides JSON-LD, in order of trust (authors: the generic
# `author` tag is read only when none of these names anyone).
_AUTHOR_TAGS = ("article:author", "og:article:author", "parsely-author", "sailthru.author", "byl",
                "dc.creator", "dcterms.creator", "citation_author", "authors", "cxenseparse:author")
_DATE_TAGS = ("article:published_time", "og:article:published_time", "og:published_time", "datepublished",
              "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
              "dcterms.created", "citation_publication_date", "publication_date", "publish-date", "publishdate",
              "pubdate", "article.published", "original-publish-date", "date")


_OUTSIDE = re.compile(r"comment|related|footer|sidebar|recommend|newsletter", re.I)


def author_elements(tree) -> Iterator[str]:
    """The texts of the elements the page marks as its author or byline (class, id, itemprop, rel), in
    trafilatura's order of expressions, outside comments, footers and sidebars (the page's own <body> and
    <html> classes say nothing of where an element is: "no-sidebar")."""
    from trafilatura.xpaths import AUTHOR_XPATHS

    seen: set[str] = set()
    for expression in AUTHOR_XPATHS:
        for el in expression(tree):
            if any(_OUTSIDE.search(f"{a.get('class', '')} {a.get('id', '')}") for a in el.iterancestors()
                   if a.tag not in ("body", "html")):
                continue
            text = " ".join(" ".join(el.itertext()).split())
            if 2 < len(text) < 120 and text not in seen:   # (the expressions overlap: one element, one try)
                seen.add(text)
                yield text


def _tag_names(meta: _Meta, keys: tuple[str, ...]) -> list[str]:
    """The values of these meta tags, less links and handles."""
    return [a for key in keys for a in meta.getall(key) if not a.startswith(("http", "@"))]


def _rel_author(tree) -> list[str]:
    """The text of links marked rel=author (a byline's link to its author's page)."""
    out = []
    for a in tree.iterfind(".//a[@rel]"):
        if "author" in (a.get("rel") or "").lower().split():
            name = _text(a.text_content())
            if name and name not in out and len(name) < 80:
                out.append(name)
    return out


def _names(value) -> list[str]:
    """The names in a JSON-LD author: a string, a Person or Organization object, or a list of them."""
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    name = _text(value)
    return [name] if name and not name.startswith("http") else []


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
        value = _text(el.get("content") or el.get("value"))   # (some publishers' templates write value=)
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


_H1 = XPath("//body//h1")


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
    if "&" in value:   # escaped twice in the markup ("&amp;quot;"), or JSON-LD written with entities
        value = html.unescape(value)
    value = " ".join(value.split())
    return value or None


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
