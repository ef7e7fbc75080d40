"""Filing articles into stories: fingerprint, find candidates, verify, link, and re-arrange the
affected stories. A page just stored is filed in the transaction that stored it; what is not filed yet is
listed in the store (`unfiled`) and filed 500 to a transaction, so a killed run catches up on its next
start.

A story is a connected component of verified links; links depend only on the two articles, and origin and
relations only on the members (origin.py), so the stories never depend on arrival order.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from ..model import Article
from ..options import DedupOptions
from .fingerprint import Signer
from .index import WindowIndex, shift
from .origin import arrange
from .verify import decide, exact


class DedupParamsMismatch(Exception):
    """The store's stories were built with other parameters; the message says which and how to rebuild."""


@dataclass
class FilingCounts:
    filed: int = 0
    links: int = 0
    stories_joined: int = 0
    late: int = 0
    exact_checks: int = 0


class Stories:
    def __init__(self, store, options: DedupOptions, rebuild: bool = False):
        self.store = store
        self.options = options
        self.tables = store.stories()
        self.signer = Signer(options)
        self.window = timedelta(days=options.window_days)
        self.counts = FilingCounts()
        self._check(rebuild)
        self.index = WindowIndex(options, self.tables, store.sidecar("bands"))

    def close(self) -> None:
        """Save the candidate index for a fast start next time (if that fails, the next start rebuilds
        it from the store: nothing is lost)."""
        try:
            self.index.save()
        except OSError as exc:
            print(f"wirecrawl: could not save the band index ({exc}); the next run rebuilds it", file=sys.stderr)

    # -- opening ------------------------------------------------------------------------------
    def _check(self, rebuild: bool) -> None:
        wanted = asdict(self.options)
        stored = self.tables.params()
        if stored is not None and stored != wanted and not rebuild:
            diff = ", ".join(f"{k} {stored.get(k)!r} -> {wanted.get(k)!r}"
                             for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k))
            raise DedupParamsMismatch(
                f"the store's stories were built with other dedup parameters ({diff}); run "
                f"`scrapy reprocess --rebuild-stories` to rebuild them from the stored articles, or set the "
                f"DEDUP_* settings back")
        if stored is None or rebuild:
            with self.store.transaction():
                self.tables.clear()
                self.tables.mark_all_unfiled()
                self.tables.set_params(wanted)
            WindowIndex.discard(self.store.sidecar("bands"))

    # -- filing -------------------------------------------------------------------------------
    def file_unfiled(self) -> int:
        """File every article whose text changed since it was last filed; returns how many. 500 to a
        transaction (still all or nothing, and resumable): each article's signature and links first, then
        every story they touch re-arranged once, not once per article (a template learned on a host
        re-files many members of the same large stories)."""
        todo = self.tables.unfiled()
        for start in range(0, len(todo), 500):
            with self.store.transaction():
                starts: set[str] = set()
                old_stories: set[str] = set()
                for url in todo[start:start + 500]:
                    before, linked, old = self._link(url)
                    starts |= before if linked is None else before | {url}
                    old_stories |= old
                    self.tables.filed(url)
                self._rearrange(starts, old_stories)
        return len(todo)

    def file(self, url: str, extracted: Article | None = None) -> str | None:
        """(Re)file one article (or drop it, when it is no longer an article); returns its story_id.
        `extracted`, the article just stored, lends its worker-made fingerprint when that was made
        from the text the store holds."""
        with self.store.transaction():
            story = self._file(url, extracted)
            self.tables.filed(url)
        return story

    def _file(self, url: str, extracted: Article | None = None) -> str | None:
        before, linked, old_stories = self._link(url, extracted)
        if linked is None:  # it became a reject: it left its story, re-arrange what is left
            self._rearrange(before, old_stories)
            return None
        if before <= linked:  # no link went away (a new article, or a text change that kept its partners):
            joined = set(self.tables.stories_of(sorted(linked))) | old_stories  # its story is the union of
            if None not in joined:                                               # the stories it touches
                component = sorted({url}.union(*(self.tables.story_urls(sid) for sid in joined)))
                return self._rearrange({url}, old_stories, component={url: component}).get(url)
        return self._rearrange({url} | before, old_stories).get(url)   # a link went away: walk the links

    def _link(self, url: str, extracted: Article | None = None) -> tuple[set[str], set[str] | None, set[str]]:
        """Sign the article and store its verified links (or drop it, when it is no longer an article);
        the stories are left to re-arrange. Returns its partners before, its partners now (None when it was
        dropped) and the story it was in."""
        tables = self.tables
        article = tables.article(url)
        before = set(tables.neighbours(url))
        old_stories = {tables.story_of(url)} - {None}
        tables.delete_links(url)
        if article is None:  # it became a reject: out of its story
            tables.delete_signature(url)
            tables.drop_member(url)
            return before, None, old_stories
        if extracted is not None and extracted.fingerprint is not None and "\n".join(extracted.lines) == article["text"]:
            fp = extracted.fingerprint
        else:  # no fingerprint, or the host's template lines changed the text
            fp = self.signer.fingerprint(article["text"])
        t = _utc(article["published"] or article["fetched_at"])
        sig_id = tables.put_signature(url, t, fp.text_hash, fp.minhash, fp.shingles)
        partners = self._partners(url, t, fp)
        tables.put_links(url, [(other, o.jaccard, o.containment) for other, o in partners])
        self.index.add(sig_id, t, fp.minhash)
        self.counts.filed += 1
        self.counts.links += len(partners)
        if partners:
            self.counts.stories_joined += 1
        return before, {other for other, _ in partners}, old_stories

    def _partners(self, url: str, t: str, fp) -> list:
        """Verified partners of a fingerprint within the time window."""
        lo, hi = shift(t, -self.window), shift(t, self.window)
        if not self.index.covers(t):
            self.counts.late += 1
        found = []
        for _, other, ot, n, minhash in self.index.query(fp.minhash, t):
            if other == url or not lo <= ot <= hi:
                continue
            overlap = decide(fp.minhash, fp.size, minhash, n, lambda o=other: self._exact_pair(fp.shingles, o), self.options)
            if overlap is not None:
                found.append((other, overlap))
        return found

    def _exact_pair(self, shingles: np.ndarray, other: str):
        self.counts.exact_checks += 1
        return shingles, self.tables.shingles(other)

    def _rearrange(self, starts: set[str], old_stories: set[str],
                   component: dict[str, list[str]] | None = None) -> dict[str, str]:
        """Re-arrange the stories of the components reached from `starts` (walked over the links, unless
        `component` gives them); returns url -> story_id. Only member rows that change are written."""
        tables = self.tables
        assigned: dict[str, str] = {}
        for start in sorted(starts):
            if start in assigned:
                continue
            found = tables.members((component or {}).get(start) or tables.component(start))
            if not found:
                continue
            members = [m for m, _, _, _, _ in found]
            arr = arrange(members)
            old_stories.update(sid for _, sid, _, _, _ in found if sid)
            origin_shingles = None
            similarity = {}
            origin_same = arr.origin not in starts
            for m, _, old_origin, old_similarity, _ in found:  # same origin, same texts: keep what was measured
                if m.fetched_url == arr.origin:
                    similarity[m.fetched_url] = 1.0
                elif origin_same and old_origin == arr.origin and old_similarity is not None and m.fetched_url not in starts:
                    similarity[m.fetched_url] = old_similarity
                else:
                    if origin_shingles is None:
                        origin_shingles = tables.shingles(arr.origin)
                    similarity[m.fetched_url] = exact(origin_shingles, tables.shingles(m.fetched_url)).jaccard
            current = {m.fetched_url: (sid, rel, sim) for m, sid, _, sim, rel in found}
            tables.put_story(arr, similarity, unchanged={
                url for url, rel in arr.relations.items()
                if current.get(url) == (arr.story_id, rel, round(similarity[url], 4))})
            for m in members:
                assigned[m.fetched_url] = arr.story_id
        for sid in old_stories - set(assigned.values()):
            tables.drop_story_if_empty(sid)
        return assigned


def _utc(iso: str) -> str:
    dt = datetime.fromisoformat(iso)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()
