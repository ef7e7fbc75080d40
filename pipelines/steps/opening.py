"""What an article opens with besides its body: the standfirst (dek) under the headline and the summary
bullets, both exported apart from the text; and the headlines of a live blog's entries, which extraction
drops as headings. Each is looked for in the page as parsed, before extraction prunes it, and is only ever
text the page shows or declares."""
from __future__ import annotations

import re

from lxml.etree import XPath

_TEXT_WITH = XPath("//body//text()[contains(., $needle)]")
_INLINE = {"a", "b", "strong", "em", "i", "span", "font", "mark", "small", "u", "q", "cite"}
_WORD = re.compile(r"\w+")
_DEK_CLASS = re.compile(r"sub-?head|\bdek\b|standfirst|summary|excerpt|strap|intro|lede|description", re.I)
_H1 = XPath("//body//h1")


_AFTER_H1 = XPath("(//body//h1)[1]/following::*[self::p or self::div or self::span or self::time or self::address "
                  "or self::li or self::small][position() <= 40]")
_BLOCKS = {"p", "div", "ul", "ol", "table", "section", "article", "li", "h2", "h3", "h4"}


def head_lines(tree) -> list[str]:
    """The short texts the page shows right after its headline, before the body starts (up to six): where
    a byline or a date line stands as a plain paragraph outside the body's container."""
    out: list[str] = []
    for el in _AFTER_H1(tree):
        if any(isinstance(child.tag, str) and child.tag in _BLOCKS for child in el):
            continue   # a container: its own blocks come next
        text = " ".join(el.text_content().split())
        if not text:
            continue
        if len(text.split()) >= 25:
            break      # the body has started
        if text not in out:
            out.append(text)
        if len(out) == 6:
            break
    return out


def standfirst(tree, description: str | None, lines: list[str]) -> tuple[str | None, bool]:
    """The standfirst (dek) the page shows under its headline, and whether it is apart from the body.

    Either the element right after the page's one <h1> when it is an h2 or its class says so
    (sub-headline, dek, standfirst, ...), of 5 to 80 words: a dek by its place, apart from the body even
    where extraction kept it. Or the page's declared summary (its description) shown as an element's whole
    text (after a kicker of up to three words, or cut short for display after ten words or more): apart
    only where extraction left it out (it sits outside the body's container); a description that
    extraction kept is the body's lead paragraph, and stays in the body. Never text in a link (a
    teaser); a plain <p> after the headline is as often a byline, a time line or a "listen" widget."""
    placed = _after_headline(tree)
    if placed is not None:
        text = " ".join(placed.text_content().split())
        if not _shown_twice(tree, placed, text):   # shown again further down, it is the body's lead
            return text, True
    shown = _described(tree, description)
    if shown and not has_text(lines, shown):
        return shown, True
    return shown, False


_SAME_TEXT = XPath("//body//*[self::p or self::div][normalize-space(.) = $text]")


def _shown_twice(tree, placed, text: str) -> bool:
    inside = set(placed.iter())
    return any(el not in inside for el in _SAME_TEXT(tree, text=text))


def _after_headline(tree):
    """The element right after the page's one <h1> that is a standfirst by its place and its class, or None."""
    h1 = _H1(tree)
    if len(h1) != 1:
        return None
    el = h1[0].getnext()
    if el is None or not isinstance(el.tag, str) or el.tag == "a" or el.find(".//a") is not None:
        return None
    if el.tag != "h2" and not _DEK_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return None
    if any(el.find(f".//{tag}") is not None for tag in ("li", "h2", "h3", "h4")):
        return None   # a box of summary bullets, not a standfirst
    return el if 5 <= len(el.text_content().split()) <= 80 else None


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
    starts = {key(line)[:60]: i for i, line in reversed(list(enumerate(lines))) if len(key(line)) >= 20}
    before: dict[int, str] = {}
    for headline, body in updates:
        i = starts.get(key(body)[:60])
        if i is not None and i not in before and not has_text(lines[max(0, i - 1):i + 1], headline):
            before[i] = headline
    return [x for i, line in enumerate(lines) for x in ([before[i]] if i in before else []) + [line]]


def has_text(lines: list[str], text: str) -> bool:
    """Whether `text` is already in one of `lines` (case, spacing and punctuation aside)."""
    wanted = key(text)
    return any(wanted in key(line) for line in lines)


def key(text: str) -> str:
    return re.sub(r"[\W_]", "", text.casefold())
