"""One crawl run's hold on the store: the run lock, the run record and its counts, and filing each
page's outcome (store, then story) exactly as `reprocess` does."""
from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field

from .model import Article, Page, Rejected
from .options import DedupOptions, ExtractOptions
from .progress import by_reason
from .store import ERRORS, StoreError, open_store
from .store.lock import StoreBusy
from .stories import Stories

_LOG = logging.getLogger(__name__)


@dataclass
class CrawlCounts:
    requests: int = 0
    bytes: int = 0
    not_modified: int = 0                  # feeds, sitemaps and sections answered 304
    already_stored: int = 0                # article URLs skipped before fetching
    too_old: int = 0                       # skipped by the source's dates before fetching
    robots_disallowed: int = 0             # pages and sources robots.txt keeps us from (or its host is down)
    articles: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0})
    stories_joined: int = 0
    not_articles: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    template_updates: int = 0
    stories: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def error(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1


class CrawlRun:
    def __init__(self, store_uri: str, extract: ExtractOptions, dedup: DedupOptions, template_min_articles: int,
                 options: dict):
        self.store = open_store(store_uri)
        try:
            self._lock = self.store.writer_lock("crawl")
        except StoreBusy:
            self.store.close()
            raise
        try:
            self.stories = Stories(self.store, dedup)
            self.stories.file_unfiled()    # what a killed run stored but did not file
        except BaseException:
            self._release()
            self.store.close()
            raise
        self.version = extract.version()
        self.template_min_articles = template_min_articles
        self.counts = CrawlCounts()
        self._group: ExitStack | None = None   # the open transaction of the pages not committed yet
        self._to_file: dict[str, Article | None] = {}   # its pages, to be filed into their stories
        self.started = time.monotonic()
        self.run_id = self.store.begin_run("crawl", {**options, "extractor_version": self.version,
                                                     **asdict(extract), **asdict(dedup)})

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def seen(self, url_key: str) -> bool:
        return self.store.seen(url_key)

    def file(self, page: Page, outcome: Article | Rejected, url_key: str) -> str:
        """Store a page's outcome (marking its URL as fetched); its article is filed into its story with
        the other pages of its group by `commit`, which the spider calls every quarter second, in the same
        transaction (a commit costs the one main process a few ms, and filing pages together links them all
        first and re-arranges each story they touch once). Each page's row is a savepoint of that group, so
        it is whole or absent."""
        if self._group is None:
            self._group = ExitStack()
            self._group.enter_context(self.store.transaction())
        result = self.store.save(outcome, page.ref, page.body_sha1, self.version, url_key=url_key)
        if result != "unchanged":
            self._to_file[page.fetched_url] = outcome if isinstance(outcome, Article) else None
        if isinstance(outcome, Article):
            self.counts.articles[result] += 1
        else:
            bucket = self.counts.not_articles if outcome.kind == "not_article" else self.counts.errors
            bucket[outcome.reason] = bucket.get(outcome.reason, 0) + 1
        return result

    def commit(self) -> None:
        """Commit the pages filed since the last commit (a page killed with the process is fetched again),
        with the template lines learned from the hosts that have grown enough (so their later pages are
        stored clean) and the re-filing of the articles those changed, each in transactions of their own."""
        group, self._group = self._group, None
        to_file, self._to_file = self._to_file, {}
        if group is not None:
            with group:   # committed with the pages' stories, or rolled back whole if filing fails
                self.stories.file_all(to_file)
            try:
                self.counts.template_updates += self.stories.learn_templates(self.template_min_articles, due_only=True)
            except StoreError as exc:   # the pages are stored: their hosts are refreshed again at the end of the run
                self.counts.error("template_refresh_failed")
                _LOG.warning("could not learn template lines after a commit (tried again at the end of the run): %s", exc)

    def close(self, status: str) -> CrawlCounts:
        """End the run: commit, learn templates, record it. After a store failure (status failed) what
        still fails is passed over: the failure already said is the one that counts."""
        try:
            self.commit()
            if status == "finished":
                self.counts.template_updates += self.stories.learn_templates(self.template_min_articles)
            else:
                self.stories.file_unfiled()
            self.counts.stories_joined = self.stories.counts.stories_joined
            self.counts.stories = self.store.stories().totals()
            if status != "failed":   # (a failed store is no place to save the index: the next start rebuilds it)
                self.stories.close()
        except ERRORS:
            if status != "failed":
                raise
        finally:
            self.counts.elapsed_s = round(time.monotonic() - self.started, 3)
            try:
                self.store.finish_run(self.run_id, status, asdict(self.counts))
            except ERRORS:
                if status != "failed":
                    raise
            finally:
                self.store.close()
                self._release()
        return self.counts


def format_crawl_summary(c: CrawlCounts, status: str, store_uri: str, archive: str) -> str:
    a = c.articles
    st = c.stories
    return "\n".join([
        f"crawl {status}: {c.requests} requests, {c.bytes / 1e6:.1f} MB in {c.elapsed_s:.1f} s",
        f"  articles stored: {sum(a.values())} (new {a['new']}, updated {a['updated']}, unchanged {a['unchanged']}); "
        f"{c.stories_joined} joined a story",
        f"  not articles: {sum(c.not_articles.values())}{by_reason(c.not_articles)}",
        f"  errors: {sum(c.errors.values())}{by_reason(c.errors)}",
        f"  skipped before fetching: {c.already_stored} already stored, {c.too_old} too old, "
        f"{c.robots_disallowed} disallowed by robots.txt; "
        f"{c.not_modified} sources not modified (304)",
        f"  stories: {st.get('stories', 0)} ({st.get('syndicated_stories', 0)} with copies, {st.get('copies', 0)} copies)",
        f"  store: {store_uri}; archive: {archive}",
    ])
