"""The headline: which of the page's titles, unescaped, without the site's name."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import dates
from .gates import UNSPACED, length
from .structured import Structured


def choose_title(meta: Structured, url: str, without_site: bool = True, h1_agrees: bool = True) -> str | None:
    """The headline: the page's one <h1>, unless it is the site's name or no headline (a logo, a sentence),
    or (`h1_agrees`) it is a short label that agrees with none of the declared titles ("Health", "OCT 17");
    else the declared title (JSON-LD headline, og:title); else the <title>; each without a site name."""
    site = squash(meta.site_name or "")
    host = urlsplit(url).hostname or ""
    clean = (lambda t: clean_title(t, meta.site_name, url)) if without_site else (lambda t: t)

    def headline(candidate: str | None) -> bool:
        squashed = squash(candidate or "")
        if len(squashed) < 2 or len(candidate.split()) > 40:
            return False
        return not (squashed in (site, squash(host)) or any(squashed == squash(label) for label in host.split(".")))

    h1 = meta.shown_titles[0] if meta.one_h1 else None
    declared = [clean_title(t, meta.site_name, url) for t in (meta.title, meta.html_title) if headline(t)]
    if h1 is not None and h1_agrees and declared:
        shown = clean_title(h1, meta.site_name, url) or h1
        if _label(shown) and not any(_agree(shown, d) for d in declared if d):
            h1 = None
    for candidate in ([h1] if h1 else []) + [meta.title, meta.html_title]:
        if headline(candidate):
            return clean(candidate)
    return clean(meta.title or meta.html_title) if (meta.title or meta.html_title) else None


def _label(shown: str) -> bool:
    """Whether a shown headline is short enough to be a label ("Health", "OCT 17", "Bike Hugger"): a longer one
    that agrees with no declared title is the story's headline in other words (a live blog's latest, an
    SEO title declared beside it)."""
    return length(shown) <= (10 if UNSPACED.search(shown) else 5)


def _agree(shown: str, declared: str) -> bool:
    """Whether a shown headline and a declared title are one headline: most of the shown one's words are in the
    declared one (a shorter headline), or half of the declared one's are in the shown one (a longer one)."""
    a, b = _words(shown), _words(declared)
    if not a or not b:
        return True
    common = len(a & b)
    return common >= 0.8 * len(a) or common >= 0.5 * len(b)


def _words(text: str) -> set[str]:
    text = text.casefold()
    return set(re.findall(r"\w+", UNSPACED.sub(" ", text))) | set(UNSPACED.findall(text))


def clean_title(title: str | None, site_name: str | None, url: str) -> str | None:
    """The headline without a trailing (or leading) site name: 'Story | Site' -> 'Story'."""
    if not title:
        return None
    names = {squash(site_name or "")}
    host = urlsplit(url).hostname or ""
    names |= {squash(label) for label in host.split(".") if len(label) > 3}
    names.discard("")
    while True:   # "Site | 01/12/2008 | Story", "Story - Section - Site": every site or date part goes
        parts = _SEPARATOR.split(title)
        if len(parts) < 2:
            break
        if _names_site(parts[-1], names) or dates.is_date_line(parts[-1]) or _NUMERIC_DATE.fullmatch(parts[-1]):
            title = title[: title.rfind(parts[-1])].rstrip(" |–—:·•>»-")
        elif _names_site(parts[0], names) or dates.is_date_line(parts[0]) or _NUMERIC_DATE.fullmatch(parts[0]):
            title = title[len(parts[0]):].lstrip(" |–—:·•>»-")
        else:
            break
    return _dominant(title.strip()) or None


def _dominant(title: str) -> str:
    """The headline part of a title made of parts ("Story | Section | Site", "新闻标题_财经网"): the part at
    least twice as long as every other one, when there is one and it does not start in lower case (the end of
    a sentence: "Minister: X - leader in reform"); else the whole title."""
    parts = [p for p in _separator(title).split(title) if p.strip()]
    if len(parts) < 2:
        return title
    sizes = [length(p) for p in parts]
    best = max(range(len(parts)), key=sizes.__getitem__)
    if sizes[best] < 3 or parts[best].strip()[0].islower():
        return title
    if all(sizes[best] >= 2 * n and _names_something(p) for i, (n, p) in enumerate(zip(sizes, parts)) if i != best):
        return parts[best].strip()
    return title


def name_parts(title: str) -> list[str]:
    """The parts of a title made of parts ("Story | Section | Site") that can be a site's or a section's name
    ("Story - report": not "report"); none for a title of one part."""
    found = [p.strip() for p in _separator(title).split(title)]
    return [p for p in found if _names_something(p)] if len(found) > 1 and all(found) else []


def cut(title: str, drop) -> str:
    """The title less its leading and trailing parts that `drop` (a test of a part) takes, one part at least kept."""
    while True:
        separators = list(_separator(title).finditer(title))
        if not separators:
            return title
        first, last = separators[0], separators[-1]
        if drop(title[last.end():].strip()):
            title = title[: last.start()].strip()
        elif drop(title[: first.start()].strip()):
            title = title[first.end():].strip()
        else:
            return title


def _separator(title: str) -> re.Pattern:
    return _CJK_SEPARATOR if UNSPACED.search(title) else _SEPARATOR


def _names_something(part: str) -> bool:
    """Whether a short part of a title can be a site's or a section's name ("Mental Floss", "News", "财经网"):
    not quoted words, nor words that go on the headline's sentence ("— “again”", "- live")."""
    part = part.strip()
    return bool(part) and not _QUOTES.search(part) and not part[0].islower()


_QUOTES = re.compile(r"[\"“”‘’«»„]")


_CJK_SEPARATOR = re.compile(r"\s*[|_–—·•»]\s*|\s+[-:]\s+|(?<=[^\x00-\x7f])-(?=[^\x00-\x7f])|\s*::\s*")
_SEPARATOR = re.compile(r"\s+[|–—·•>»-]\s+|\s+::\s+|(?<=\S):\s+\|\s+")
_NUMERIC_DATE = re.compile(r"\s*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\s*")


def _names_site(part: str, names: set[str]) -> bool:
    squashed = squash(part)
    if not squashed or len(part.split()) > 5:
        return False
    initials = "".join(w[0] for w in re.findall(r"\w+", part.lower())) if len(part.split()) >= 3 else ""
    return any(squashed == n or squashed in n or n in squashed or initials == n for n in names)


def squash(text: str) -> str:
    return re.sub(r"[\W_]", "", re.sub(r"^the\s+|\bwww\b|\.(com|co\.uk|org|net)$", "", text.lower()))
