"""Host templates: a line that recurs across many distinct articles of one host is that host's chrome.

The store keeps which article holds which line (so the knowledge survives runs and reprocessing) and
calls these functions; the decision itself is here.
"""
from __future__ import annotations

import hashlib
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


def body_text(lines: list[str], template_keys: set[str], keys: list[str] | None = None) -> str:
    if not template_keys:
        return "\n".join(lines)
    keys = keys or line_keys(lines)
    return "\n".join(line for line, key in zip(lines, keys) if key not in template_keys)
