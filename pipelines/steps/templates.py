"""Host templates: a line that recurs across many distinct articles of one host is that host's chrome.

The store keeps which article holds which line (so the knowledge survives runs and reprocessing) and
calls these functions; the decision itself is here.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from typing import Iterable

MAX_TEMPLATE_WORDS = 120  # longer lines are story text, never template candidates


def line_key(line: str) -> str:
    norm = " ".join(unicodedata.normalize("NFKC", line).casefold().split())
    return hashlib.sha1(norm.encode()).hexdigest()[:16]


def line_keys(lines: list[str]) -> list[str]:
    return [line_key(line) for line in lines]


def candidate_keys(lines: list[str], keys: list[str]) -> set[str]:
    """The template candidates among `lines`, whose `line_keys` are `keys`."""
    return {key for line, key in zip(lines, keys) if len(line.split()) <= MAX_TEMPLATE_WORDS}


def learn(articles: Iterable[tuple[str, str]], min_articles: int) -> set[str]:
    """A host's template lines: the keys found in at least `min_articles` distinct stories, from each of
    its articles' (`lead_key`, space-separated `candidate_keys`)."""
    by_story: dict[str, set[str]] = {}
    for lead, keys in articles:
        by_story.setdefault(lead, set()).update(keys.split())
    stories = Counter(key for keys in by_story.values() for key in keys)
    return {key for key, n in stories.items() if n >= min_articles}


def lead_key(lines: list[str], keys: list[str]) -> str:
    """Identifies the story an article tells (its longest paragraph), so that revisions and
    duplicates of one article count as one when deciding what recurs across articles."""
    return keys[max(range(len(lines)), key=lambda i: len(lines[i]))] if lines else ""


def body(lines: list[str], template_keys: set[str] | frozenset[str], keys: list[str] | None = None) -> tuple[str, str]:
    """The body text: the lines less the host's template lines; and what gives the lines back with it (`split`)."""
    if not template_keys:
        return split(lines, None)
    keys = keys or line_keys(lines)
    return split(lines, [key not in template_keys for key in keys])


def split(lines: list[str], keep: list[bool] | None) -> tuple[str, str]:
    """The text of the lines `keep` selects (all when None) and, as JSON, what gives the lines back with it
    (`lines_of`): the lines it leaves out, each as [its place, the line]; or, when the text cannot give its
    lines back (none is kept, or a kept line holds a line break), {"lines": all of them}. So a store keeps
    an article's text once, not once as text and again as lines."""
    kept_lines = lines if keep is None else [line for line, k in zip(lines, keep) if k]
    text = "\n".join(kept_lines)
    if text.count("\n") != len(kept_lines) - 1:   # no line kept, or one holds a line break
        return text, json.dumps({"lines": lines}, ensure_ascii=False)
    left_out = [] if keep is None else [[i, line] for i, (line, k) in enumerate(zip(lines, keep)) if not k]
    return text, json.dumps(left_out, ensure_ascii=False)


def kept(lines: list[str], text: str) -> list[bool] | None:
    """Which of `lines` a stored `text` is made of (it is them less some: the host's template lines, and a line
    equal to a kept one is never among those), or None when it is not made of them."""
    if "\n".join(lines) == text:   # the usual case: the host has no template line here
        return [True] * len(lines)
    stored = text.split("\n")
    keep, j = [], 0
    for line in lines:
        keep.append(j < len(stored) and line == stored[j])
        j += keep[-1]
    if j == len(stored):
        return keep
    return [False] * len(lines) if not text else None   # ("" is also the text of no line at all)


def lines_of(text: str, left_out: str) -> list[str]:
    """An article's lines from its body text and what `body` said it leaves out."""
    out = json.loads(left_out)
    if isinstance(out, dict):
        return out["lines"]
    kept = iter(text.split("\n"))
    places = dict(out)
    return [places[i] if i in places else next(kept) for i in range(text.count("\n") + 1 + len(places))]
