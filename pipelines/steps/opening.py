"""What an article opens with that extraction tends to miss, because it sits outside the body's
container: the standfirst (dek) under the headline and the summary bullets; and the headlines of a live
blog's entries, which extraction drops as headings. Each is looked for in the page as parsed, before
extraction prunes it, and only ever adds text the page shows or declares."""
from __future__ import annotations

import re

from lxml.etree import XPath

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
        if node.is_tail and heading is not None:
            heading = heading.getparent()
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


def with_entry_headlines(lines: list[str], updates: list[tuple[str, str]]) -> list[str]:
    """A live blog's entries with their headlines ("84 minutes: Luton 2 Villa 2", as its JSON-LD
    `liveBlogUpdate` gives them): each goes before the line its entry's text starts with."""
    if not updates:
        return lines
    starts = {_key(line)[:60]: i for i, line in reversed(list(enumerate(lines))) if len(_key(line)) >= 20}
    before: dict[int, str] = {}
    for headline, body in updates:
        i = starts.get(_key(body)[:60])
        if i is not None and i not in before and not has_text(lines[max(0, i - 1):i + 1], headline):
            before[i] = headline
    return [x for i, line in enumerate(lines) for x in ([before[i]] if i in before else []) + [line]]


def has_text(lines: list[str], text: str) -> bool:
    """Whether `text` is already in one of `lines` (case, spacing and punctuation aside)."""
    key = _key(text)
    return any(key in _key(line) for line in lines)


def _key(text: str) -> str:
    return re.sub(r"[\W_]", "", text.casefold())
