"""The one ingest loop that a crawl and `reprocess` both drive: a writing run's hold on the store (its lock
and its run record), and each page's outcome cleaned for its host, stored, and filed into its story, a
commit group at a time. So a crawl and a reprocess of its archive give the same rows."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from .model import Article, Known, Page, Rejected, RawRef
from .options import DedupOptions, ExtractOptions
from .steps.templates import HostTemplates
from .store import ERRORS, Saving, StoreError, open_store
from .stories import Stories

_LOG = logging.getLogger(__name__)


@dataclass
class Counts:
    """What a run did, as its run record keeps it (a crawl's fetching included)."""
    pages: int = 0
    articles: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0})
    not_articles: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)          # archive records that are not pages
    inputs_skipped: dict[str, int] = field(default_factory=dict)   # input files that cannot be read
    removed_lines: dict[str, int] = field(default_factory=dict)    # boilerplate lines, by rule
    template_updates: int = 0
    stories: dict[str, int] = field(default_factory=dict)
    # a crawl's fetching
    requests: int = 0
    bytes: int = 0
    not_modified: int = 0                  # feeds, sitemaps and sections answered 304
    already_stored: int = 0                # article URLs skipped before fetching
    too_old: int = 0                       # skipped by the source's dates before fetching
    robots_disallowed: int = 0             # pages and sources robots.txt keeps us from (or its host is down)
    fetched_elsewhere: int = 0             # article URLs another worker of the fleet holds
    elapsed_s: float = 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed_s if self.elapsed_s else 0.0

    def error(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1

    def page(self, outcome: Article | Rejected) -> None:
        """A page read: its boilerplate lines removed, or why it is not an article (its new, updated or
        unchanged is counted when it is stored)."""
        self.pages += 1
        if isinstance(outcome, Article):
            for rule, n in outcome.removed.items():
                self.removed_lines[rule] = self.removed_lines.get(rule, 0) + n
        else:
            bucket = self.not_articles if outcome.kind == "not_article" else self.errors
            bucket[outcome.reason] = bucket.get(outcome.reason, 0) + 1

    def as_dict(self) -> dict:
        return {**asdict(self), "pages_per_s": round(self.pages_per_s, 2)}


class Ingest:
    """One writing run on a store. `save` cleans a page's outcome for its host and adds it to the open commit
    group; `commit` stores the group's pages (a few statements for them all) and files their articles into
    their stories in one transaction, commits, then learns the template lines of the hosts grown enough, so
    their later pages are stored clean; `close` ends the run. Raises StoreError (StoreBusy when another run writes the store) or
    DedupParamsMismatch when the run cannot start."""

    def __init__(self, store_uri: str, command: str, extract: ExtractOptions, dedup: DedupOptions,
                 template_min_articles: int, options: dict, rebuild_stories: bool = False):
        self.store = open_store(store_uri)
        self.version = extract.version()
        self.counts = Counts()
        self._lock = None
        self.run_id = None
        try:
            self._lock = self.store.writer_lock(command)
            self.stories = Stories(self.store, dedup, rebuild=rebuild_stories)
            self.templates = HostTemplates(self.store, template_min_articles)
            self.run_id = self.store.begin_run(command, {**options, "extractor_version": self.version,
                                                         **asdict(extract), **asdict(dedup)})
            self.stories.file_unfiled()    # what a killed run stored but did not file, or all after a rebuild
        except BaseException as exc:
            try:
                if self.run_id is not None:
                    self.store.finish_run(self.run_id, "failed", self.counts.as_dict())
            except ERRORS:
                pass   # (the failure that led here is the one to report)
            self._release()
            self.store.close()
            if isinstance(exc, ERRORS) and not isinstance(exc, StoreError):
                raise self.store.failure(exc) from exc
            raise
        self._group: list[Saving] = []   # the pages saved since the last commit, in order
        self._pending: dict[str, Saving] = {}   # the last of them by URL (what `known` answers for it)
        self._pending_keys: set[str] = set()     # and their URL keys
        self._fetch_states: list[tuple[str, str | None, str | None]] = []   # sources' validators, committed after
        self.started = time.monotonic()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def failure(self, exc: BaseException) -> StoreError:
        """What a store error met on the way means to the user (Store.failure)."""
        return self.store.failure(exc)

    # -- pages ------------------------------------------------------------------------------------
    def known(self, fetched_url: str) -> Known | None:
        pending = self._pending.get(fetched_url)
        return Known(pending.body_sha1, pending.version) if pending else self.store.known(fetched_url)

    def seen(self, url_key: str) -> bool:
        return url_key in self._pending_keys or self.store.seen(url_key)

    def claim_url(self, url_key: str) -> bool:
        """(A fleet's worker takes the URL from the others first; a run on its own has it.)"""
        return True

    def release_url(self, url_key: str) -> None:
        pass

    def fetch_state(self, url: str) -> tuple[str | None, str | None]:
        """A crawled source's validators (ETag, Last-Modified) from last time."""
        return self.store.fetch_state(url)

    def keep_fetch_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """Keep a source's validators, committed with the pages saved before them: once they are kept, the
        next run asks for the source conditionally and skips what it listed."""
        self._fetch_states.append((url, etag, last_modified))

    def unchanged(self) -> None:
        """A page not read again: same bytes, same extractor, same row."""
        self.counts.pages += 1
        self.counts.articles["unchanged"] += 1

    def save(self, page: Page, outcome: Article | Rejected, url_key: str | None = None) -> None:
        """Clean a page's outcome and add it to the commit group (a crawl marks its URL as fetched with it):
        the next `commit` stores it and files its article."""
        self.save_outcome(outcome, page.ref, page.body_sha1, url_key)

    def save_outcome(self, outcome: Article | Rejected, ref: RawRef, body_sha1: str | None,
                     url_key: str | None = None, version: str | None = None) -> None:
        """(`version`: the extractor's that made the outcome, when it is not this run's: a fleet's worker's)"""
        if isinstance(outcome, Article):
            outcome.body = self.templates.clean(outcome)
        saving = Saving(outcome, ref, body_sha1, version or self.version, url_key)
        self._group.append(saving)
        self._pending[outcome.fetched_url] = saving
        if url_key is not None:
            self._pending_keys.add(url_key)
        self.counts.page(outcome)

    # -- commits ----------------------------------------------------------------------------------
    def commit(self) -> None:
        """Commit the pages saved since the last commit, filed into their stories (a page killed with the
        process is read again by the next run); then the template lines of the hosts grown enough, and the
        re-filing of the articles they change, each in transactions of their own. A store error there is
        counted and said: the pages are stored, and their hosts are learned again at the end of the run."""
        group, self._group = self._group, []
        fetch_states, self._fetch_states = self._fetch_states, []
        self._pending, self._pending_keys = {}, set()
        if not group and not fetch_states:
            return
        with self.store.transaction():   # the pages with their stories, or nothing if filing fails
            results = self.store.save_many(group) if group else []
            to_file: dict[str, Article | None] = {}
            for saving, result in zip(group, results):
                if isinstance(saving.result, Article):
                    self.counts.articles[result] += 1
                if result != "unchanged":
                    to_file[saving.result.fetched_url] = saving.result if isinstance(saving.result, Article) else None
            self.stories.file_all(to_file)
            for url, etag, modified in fetch_states:
                self.store.set_fetch_state(url, etag, modified)
        if not group:
            return
        try:
            self.learn_templates(due_only=True)
        except StoreError as exc:
            self.templates.forget()
            self.counts.error("template_refresh_failed")
            _LOG.warning("could not learn template lines after a commit (tried again at the end of the run): %s", exc)

    def learn_templates(self, due_only: bool = False) -> None:
        self.counts.template_updates += self.templates.relearn(due_only)
        self.stories.file_unfiled()

    def close(self, status: str) -> Counts:
        """End the run: commit, learn the hosts' template lines (a finished run), record it. After a store
        failure (status failed) what still fails is passed over: the failure already said is the one that
        counts."""
        try:
            if status != "failed":
                self.commit()
                if status == "finished":
                    self.learn_templates()
                else:
                    self.stories.file_unfiled()
            else:   # what was not committed is not stored: the next run reads those pages again
                self._group, self._pending, self._pending_keys, self._fetch_states = [], {}, set(), []
            self.counts.stories = {**asdict(self.stories.counts), **self.store.stories().totals()}
            if status != "failed":   # (a failed store is no place to save the index: the next start rebuilds it)
                self.stories.close()
        except ERRORS:
            if status != "failed":
                raise
        finally:
            self.counts.elapsed_s = round(time.monotonic() - self.started, 3)
            try:
                self.store.finish_run(self.run_id, status, self.counts.as_dict())
            except ERRORS:
                if status != "failed":
                    raise
            finally:
                self.store.close()
                self._release()
        return self.counts
