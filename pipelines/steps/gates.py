"""Not an article: the decisions that keep a page out of the store, each erring towards keeping it.

Lengths are counted in a way that holds for every script; a page declared an article is never a section page
nor judged a login wall by its form; a login wall is a page whose body is missing.
"""
from __future__ import annotations

import re

from . import opening
from .structured import Structured

_LOGIN = re.compile(r"\b(log ?in|sign ?in|subscribe to (continue|read)|create (a free )?account|"
                    r"consent|cookies? (settings|preferences)|verify you are (a )?human|access denied)\b", re.I)


# Han, kana and Thai are written without spaces between words: each character counts as a word. (Hangul is
# spaced.) A measure that holds for every script: a Chinese article is as long in it as its English version.
UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PARAGRAPH = 30   # words: a line this long is a paragraph of text, not a headline or a link


def length(text: str) -> int:
    """Words in `text`, counting each Han, kana or Thai character as one."""
    unspaced = len(UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    return unspaced + len(UNSPACED.sub(" ", text).split())


def verdict(body: list[str], gate: str | None, links: Links | None, min_words: int) -> tuple[str, str] | None:
    """(reason, detail) when the body makes the page not an article, else None."""
    sizes = [length(line) for line in body]
    words = sum(sizes)
    if words < min_words and gate:   # a login wall is a page whose body is missing
        return ("login_wall", f"{gate}, {words} words")
    if links is not None and max(sizes, default=0) < PARAGRAPH and _mostly_links(body, sizes, links):
        return ("section_page", "the text is mostly headline links, no paragraph of 30 words")
    if not body:
        return ("no_body", "no body text found")
    if words < min_words:
        return ("too_short", f"{words} words < {min_words}")
    return None


def login_gate(tree, meta: Structured) -> str | None:
    """Why the page looks like a login, consent or paywall page. Real article pages often carry a
    login modal too, so a page that declares itself an article is never judged by its form alone."""
    if meta.is_article:
        return None
    if tree.xpath('.//input[@type="password"]'):
        return "password form"
    if meta.html_title and _LOGIN.search(meta.html_title):
        return f"title: {meta.html_title[:80]}"
    return None


class Links:
    """A page's link texts, when it may be a section page: not declared an article, and declared a listing
    or showing 15 headline links (5 words or more)."""

    def __init__(self, texts: list[str]) -> None:
        self.keys = {opening.key(t) for t in texts}
        self.headline_words = sum(n for n in map(length, texts) if n >= 5)

    def teaser(self, line: str) -> bool:
        """Is the line a link's text, or does it start with one (a teaser: headline, then its summary)?"""
        key = opening.key(line)
        return key in self.keys or any(key.startswith(k) for k in self.keys if len(k) >= 15)


def headline_links(tree, meta: Structured) -> Links | None:
    if meta.is_article:
        return None
    texts = [t for t in (a.text_content() for a in tree.iterfind(".//a")) if t and length(t) >= 3]
    if not meta.is_listing and sum(1 for t in texts if length(t) >= 5) < 15:
        return None
    return Links(texts)


def _mostly_links(body: list[str], sizes: list[int], links: Links) -> bool:
    """Whether the page's headline links hold twice the words of the body, or most of the body's words are
    in lines that are link texts (teaser headlines), or start with one."""
    if links.headline_words >= 2 * sum(sizes):
        return True
    linked = sum(n for line, n in zip(body, sizes) if links.teaser(line))
    return linked * 2 >= sum(sizes)
