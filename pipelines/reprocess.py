"""Reprocess stored pages (WARC files, saved HTML) through the core steps into the store."""
from __future__ import annotations

import dataclasses
import signal
import time
from dataclasses import asdict

from . import sources
from .forkserver import start_forkserver
from .ingest import Counts, Ingest
from .model import Page, Rejected
from .options import DedupOptions, ExtractOptions, RunOptions
from .progress import Progress
from .sources import HtmlFile, Skipped, path_text
from .store import ERRORS
from .fleet.worker import FleetWorker
from .workers import UNCHANGED, ExtractionPool


_COMMIT_EVERY_S = 0.25


class NothingToDo(Exception):
    """No input could be found; the message says where we looked."""


def reprocess(paths: list[str], run: RunOptions, extract: ExtractOptions, dedup: DedupOptions,
              progress: Progress, rebuild_stories: bool = False, fleet: str | None = None,
              fleet_claim_s: float = 30.0) -> tuple[Counts, str]:
    """Process every page under `paths` into the store and file each article into its story; returns
    the counts and the run's status (the end of the run, in Ingest.close: the hosts' template lines
    learned again, the run recorded). With `fleet` (a Redis URL), as one worker of a fleet: the input files
    are shared out among its workers and the results go to the fleet's filer (pipelines/fleet). Raises
    StoreError / FleetError / NothingToDo / DedupParamsMismatch when nothing at all can be processed."""
    files, passed_over = sources.expand(paths) if paths else ([], [])
    if paths and not files:
        why = "; ".join(f"{s.fetched_url}: {s.detail}" for s in passed_over[:5]) or "no WARC or HTML files in it"
        raise NothingToDo(f"nothing to read in {', '.join(map(path_text, paths))} ({why})")
    if not paths and not rebuild_stories:
        raise NothingToDo("no input given")
    if files:
        start_forkserver()   # the extraction workers' imports overlap opening the store and the index
    if fleet:
        ingest = FleetWorker(fleet, run.store_uri, extract, claim_s=fleet_claim_s, force=run.force)
        files = ingest.files(files)
    else:
        ingest = Ingest(run.store_uri, "reprocess", extract, dedup, run.template_min_articles,
                        {"paths": paths, **asdict(run)}, rebuild_stories=rebuild_stories)
    counts, version = ingest.counts, ingest.version
    for item in passed_over:   # said one by one, counted by reason, and the run goes on with the rest
        counts.inputs_skipped[item.reason] = counts.inputs_skipped.get(item.reason, 0) + 1
        progress.say(f"skipped {item.fetched_url}: {item.detail}")
    status = "failed"

    def on_other(item) -> None:
        if isinstance(item, Skipped):
            counts.skipped[item.reason] = counts.skipped.get(item.reason, 0) + 1
            return
        ingest.save_outcome(Rejected(item.fetched_url, "error", item.reason, item.detail, None), item.ref, None)
        progress.update(counts)

    def fresh_pages():
        for item in sources.read(files):   # HTML files come unread: the workers read them
            if isinstance(item, (Page, HtmlFile)) and not run.force:
                known = ingest.known(item.fetched_url)
                if isinstance(item, HtmlFile):   # the worker compares the file's bytes
                    if known is not None and known.extractor_version == version:
                        item = dataclasses.replace(item, unchanged_sha1=known.body_sha1)
                elif known is not None and (known.body_sha1, known.extractor_version) == (item.body_sha1, version):
                    ingest.unchanged()
                    progress.update(counts)
                    continue
            yield item

    def store_page(page: Page, outcome) -> None:
        if isinstance(outcome, str) and outcome == UNCHANGED:   # (a string from another process)
            ingest.unchanged()
        else:
            ingest.save(page, outcome)
        progress.update(counts)

    stop = _Stop()
    previous = {sig: signal.signal(sig, stop.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with ExtractionPool(run.workers, run.extract_timeout, extract, dedup) as pool:
            results = pool.map_unordered(fresh_pages(), on_other, stop.requested)
            more = True
            stop.between_pages = True   # from here a signal asks the loop to stop after the page in hand
            while more:
                # Pages are committed together, a quarter second's worth at a time (a commit costs the one
                # main process a few ms: 3.7 on average over 1,280 pages), and filed into their stories
                # together at the end of the group, in the same transaction. A killed run redoes at most
                # this much; a stopped one (SIGTERM, Ctrl-C) commits every page it counted.
                deadline = time.monotonic() + _COMMIT_EVERY_S
                for result in results:
                    if result is not None:   # (None: the workers are busy; a page stuck for long
                        store_page(*result)  # must not hold back the pages before it)
                    if stop.requested() or time.monotonic() >= deadline:
                        break
                else:
                    more = False
                ingest.commit()
                more = more and not stop.requested()
            stop.between_pages = False
            if stop.requested():
                raise KeyboardInterrupt
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
    except ERRORS as exc:   # a full disk, a damaged page met on the way: said in one line, the run marked failed
        raise ingest.failure(exc) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.close()
        ingest.close(status)
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
