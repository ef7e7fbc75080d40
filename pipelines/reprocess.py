"""Reprocess stored pages (WARC files, saved HTML) through the core steps into the store."""
from __future__ import annotations

import dataclasses
import signal
import time
from dataclasses import asdict, dataclass, field

from . import sources
from .forkserver import start_forkserver
from .model import Article, Page, Rejected
from .options import DedupOptions, ExtractOptions, RunOptions
from .progress import Progress
from .sources import HtmlFile, Skipped, path_text
from .store import ERRORS, failure, open_store
from .stories import Stories
from .workers import UNCHANGED, ExtractionPool


@dataclass
class Counts:
    pages: int = 0
    articles: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0})
    not_articles: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    inputs_skipped: dict[str, int] = field(default_factory=dict)
    removed_lines: dict[str, int] = field(default_factory=dict)
    template_updates: int = 0
    stories: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "pages_per_s": round(self.pages_per_s, 2)}


_COMMIT_EVERY_S = 0.25


class NothingToDo(Exception):
    """No input could be found; the message says where we looked."""


def reprocess(paths: list[str], run: RunOptions, extract: ExtractOptions, dedup: DedupOptions,
              progress: Progress, rebuild_stories: bool = False) -> tuple[Counts, str]:
    """Process every page under `paths` into the store and file each article into its story; returns
    the counts and the run's status. Raises StoreError / NothingToDo /
    DedupParamsMismatch when nothing at all can be processed."""
    files, passed_over = sources.expand(paths) if paths else ([], [])
    if paths and not files:
        why = "; ".join(f"{s.fetched_url}: {s.detail}" for s in passed_over[:5]) or "no WARC or HTML files in it"
        raise NothingToDo(f"nothing to read in {', '.join(map(path_text, paths))} ({why})")
    if not paths and not rebuild_stories:
        raise NothingToDo("no input given")
    if files:
        start_forkserver()   # the extraction workers' imports overlap opening the store and the index
    store = open_store(run.store_uri)
    version = extract.version()
    lock = None
    try:
        lock = store.writer_lock("reprocess")  # a crawl running on the store makes this run exit at once
        stories = Stories(store, dedup, rebuild=rebuild_stories)
        run_id = store.begin_run("reprocess", {"paths": paths, "extractor_version": version, **asdict(run),
                                               **asdict(extract)})
    except BaseException as exc:
        if lock is not None:
            lock.release()
        store.close()
        if isinstance(exc, ERRORS):
            raise failure(store.path, exc) from exc
        raise
    counts = Counts()
    for item in passed_over:   # said one by one, counted by reason, and the run goes on with the rest
        counts.inputs_skipped[item.reason] = counts.inputs_skipped.get(item.reason, 0) + 1
        progress.say(f"skipped {item.fetched_url}: {item.detail}")
    status = "failed"
    store_failed = False   # (then what the end of the run does with the store may fail too)
    started = time.monotonic()

    def record(kind: str, reason: str) -> None:
        bucket = counts.not_articles if kind == "not_article" else counts.errors
        bucket[reason] = bucket.get(reason, 0) + 1

    def on_other(item) -> None:
        if isinstance(item, Skipped):
            counts.skipped[item.reason] = counts.skipped.get(item.reason, 0) + 1
            return
        counts.pages += 1
        store.save(Rejected(item.fetched_url, "error", item.reason, item.detail, None), item.ref, None, version)
        record("error", item.reason)
        progress.update(counts)

    def fresh_pages():
        for item in sources.read(files):   # HTML files come unread: the workers read them
            if isinstance(item, (Page, HtmlFile)) and not run.force:
                known = store.known(item.fetched_url)
                if isinstance(item, HtmlFile):   # the worker compares the file's bytes
                    if known is not None and known[1] == version:
                        item = dataclasses.replace(item, unchanged_sha1=known[0])
                elif known == (item.body_sha1, version):
                    unchanged()
                    continue
            yield item

    def unchanged() -> None:
        counts.pages += 1
        counts.articles["unchanged"] += 1  # same bytes, same extractor: same row
        progress.update(counts)

    to_file: dict[str, Article | None] = {}   # pages stored in this commit group, filed together at its end

    def store_page(page: Page, outcome) -> None:
        if isinstance(outcome, str) and outcome == UNCHANGED:   # (a string from another process)
            unchanged()
            return
        result = store.save(outcome, page.ref, page.body_sha1, version)
        if result != "unchanged":
            to_file[page.fetched_url] = outcome if isinstance(outcome, Article) else None
        counts.pages += 1
        if isinstance(outcome, Article):
            counts.articles[result] += 1
            for rule, n in outcome.removed.items():
                counts.removed_lines[rule] = counts.removed_lines.get(rule, 0) + n
        else:
            record(outcome.kind, outcome.reason)
        progress.update(counts)

    stop = _Stop()
    previous = {sig: signal.signal(sig, stop.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        stories.file_unfiled()  # what a killed run left, or everything after --rebuild-stories
        with ExtractionPool(run.workers, run.extract_timeout, extract, dedup) as pool:
            results = pool.map_unordered(fresh_pages(), on_other, stop.requested)
            more = True
            stop.between_pages = True   # from here a signal asks the loop to stop after the page in hand
            while more:
                # Pages are committed together, a quarter second's worth at a time (a commit costs the one
                # main process a few ms: 3.7 on average over 1,280 pages), and filed into their stories
                # together at the end of the group, in the same transaction (linked first, each story they
                # touch re-arranged once); each page's row is its own savepoint. A killed run redoes at most
                # this much; a stopped one (SIGTERM, Ctrl-C) commits every page it counted.
                with store.transaction():
                    deadline = time.monotonic() + _COMMIT_EVERY_S
                    for result in results:
                        if result is not None:   # (None: the workers are busy; a page stuck for long
                            store_page(*result)  # must not hold back the pages before it)
                        if stop.requested() or time.monotonic() >= deadline:
                            break
                    else:
                        more = False
                    stories.file_all(to_file)
                    to_file.clear()
                # as the run goes, the template lines of the hosts grown enough, so their later pages are
                # stored clean; after the pages' commit, so it never holds them back
                counts.template_updates += stories.learn_templates(run.template_min_articles, due_only=True)
                more = more and not stop.requested()
            stop.between_pages = False
            if stop.requested():
                raise KeyboardInterrupt
        counts.template_updates += stories.learn_templates(run.template_min_articles)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
    except ERRORS as exc:   # a full disk, a damaged page met on the way: said in one line, the run marked failed
        store_failed = True
        raise failure(store.path, exc) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        counts.elapsed_s = round(time.monotonic() - started, 3)
        progress.close()
        try:   # (after a store failure these may fail too: the first failure is the one reported)
            counts.stories = {**asdict(stories.counts), **store.stories().totals()}
            if not store_failed:   # (a failed store is no place to save the index: the next start rebuilds it)
                stories.close()
            store.finish_run(run_id, status, counts.as_dict())
        except ERRORS:
            if not store_failed:
                raise
        finally:
            store.close()
            lock.release()
    return counts, status


class _Stop:
    """SIGTERM and Ctrl-C. Between pages they only ask the page loop to stop (it stops after the page in hand,
    so every page it counted is stored whole); anywhere else, or the second time, they interrupt at once."""

    def __init__(self):
        self.between_pages = False
        self._asked = False

    def requested(self) -> bool:
        return self._asked

    def handle(self, signum, frame) -> None:
        if self.between_pages and not self._asked:
            self._asked = True
            return
        raise KeyboardInterrupt
