"""Host templates: a line that recurs across many distinct articles of one host is that host's chrome; so is
a part of their titles ("Story | Gazette Daily": the site's name when no page of the host declares it).

The store keeps which article holds which line (so the knowledge survives runs and reprocessing); what is
a template line, and what an article's text is for it, is decided here (HostTemplates).
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from typing import Iterable

from ..model import Body, Recleaned
from . import titles

MAX_TEMPLATE_WORDS = 120  # longer lines are story text, never template candidates


def line_key(line: str) -> str:
    norm = " ".join(unicodedata.normalize("NFKC", line).casefold().split())
    return hashlib.sha1(norm.encode()).hexdigest()[:16]


def line_keys(lines: list[str]) -> list[str]:
    return [line_key(line) for line in lines]


def title_key(part: str) -> str:
    """A title part's key: apart from every line's (a body line alike is another thing)."""
    return line_key("\0" + part)


def title_less_host_parts(title: str | None,
                          template_keys: set[str] | frozenset[str]) -> tuple[str | None, str | None]:
    """The title less its leading and trailing parts that are the host's (`title_key`s among `template_keys`),
    and the title as it was when that cut anything (else None)."""
    if not title or not template_keys:
        return title, None
    cut = titles.cut(title, lambda part: title_key(part) in template_keys)
    return (cut, title) if cut != title else (title, None)


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


def clean_body(lines: list[str], title: str | None, template_keys: set[str] | frozenset[str],
               keys: list[str] | None = None, site_name: str | None = None) -> Body:
    """An article's Body: its lines less its host's template lines, and its title less the host's title parts,
    with what the host's learning keeps of them. A declared site name counts as a title part: a page that
    declares it tells the host's pages that do not what their titles' part is."""
    keys = keys if keys is not None and len(keys) == len(lines) else line_keys(lines)
    text, left_out = body(lines, template_keys, keys)
    parts = titles.name_parts(title or "") + ([site_name.strip()] if site_name and site_name.strip() else [])
    candidates = candidate_keys(lines, keys) | {title_key(part) for part in parts}
    return Body(text, left_out, lead_key(lines, keys), " ".join(sorted(candidates)),
                *title_less_host_parts(title, template_keys))


class HostTemplates:
    """The cleaning step of host templates, over a store's record of which article holds which line: it
    cleans each article for its host's current template lines before the article is stored, and learns the
    lines again as hosts grow, giving back the stored texts that change (`relearn`), which the run saves
    and files. One per writing run: what it remembers is the store's as that run wrote it."""

    def __init__(self, store, min_articles: int):
        self.store = store
        self.min_articles = min_articles
        self._keys: dict[str, frozenset[str]] = {}   # each host's template keys, as stored
        # When a host is due (relearn(due_only=True)): the articles saved for it since its last learning, and
        # how many it had then. Only a schedule: a save rolled back after being counted makes a learning come
        # a little early, never a wrong one.
        self._saves: dict[str, int] = {}
        self._size: dict[str, int] = {}

    def keys(self, host: str | None) -> frozenset[str]:
        if not host:
            return frozenset()
        found = self._keys.get(host)
        if found is None:
            found = self._keys[host] = frozenset(self.store.template_keys(host))
        return found

    def clean(self, article) -> Body:
        """The article's body for its host's current template lines (and counted towards its host's next learning)."""
        if article.host:
            self._saves[article.host] = self._saves.get(article.host, 0) + 1
        return clean_body(article.lines, article.title, self.keys(article.host), article.line_keys, article.site_name)

    def relearn(self, due_only: bool = False) -> int:
        """Learn again the template lines of every host whose articles changed since it was last learned and,
        when they differ from its current ones, clean its stored texts again; the store saves both (and marks
        the changed articles for filing) in one transaction per host, so an interrupted pass resumes where it
        stopped. Returns how many stored articles changed.

        `due_only`: only the hosts whose articles saved in this run since their last learning number at least
        `min_articles` and at least as many as they had then. A run calls this as it goes, so a new host's
        template lines are learned from its first articles and the rest are stored clean instead of all being
        cleaned again and re-filed at the end; the doubling keeps all of a host's learnings within about twice
        the cost of one."""
        changed = 0
        for host in self.store.dirty_hosts():
            if due_only and not self._due(host):
                continue
            with self.store.transaction():
                learned = frozenset(learn(self.store.host_lines(host), self.min_articles))
                recleaned = None
                if learned != self.keys(host):
                    recleaned = []
                    for article, url, left_out, text, title, extracted_title in self.store.host_texts(host):
                        new_text, new_left_out = body(lines_of(text, left_out), learned)
                        new_title, new_extracted = title_less_host_parts(extracted_title or title, learned)
                        if new_text != text or new_title != title:
                            recleaned.append(Recleaned(article, url, new_text, new_left_out, new_title, new_extracted,
                                                       new_text != text))
                self.store.save_templates(host, None if recleaned is None else sorted(learned), recleaned or [])
            if recleaned is not None:
                self._keys[host] = learned
                changed += len(recleaned)
            self._saves[host] = 0
            self._size[host] = self.store.articles_of(host)
        return changed

    def forget(self) -> None:
        """After a rollback of a learning: read the hosts' lines from the store again."""
        self._keys.clear()

    def _due(self, host: str) -> bool:
        saved = self._saves.get(host, 0)
        if saved < self.min_articles:
            return False
        if host not in self._size:   # not learned by this run yet
            self._size[host] = self.store.articles_of(host) - saved
        return saved >= self._size[host]
