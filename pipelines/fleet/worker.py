"""A reprocess worker of a fleet: the run's pages go to the fleet's stream instead of the store, where the
filer (filer.py) stores and files them. It has what `reprocess` asks of an Ingest: `known` (read from the
store, read-only, when there is one yet), `save_outcome`, `unchanged`, `commit`, `close`."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from ..ingest import Counts
from ..model import Article, Known, Page, Rejected, RawRef
from ..options import ExtractOptions
from ..sources import path_text
from ..store import ERRORS, NoStore, Saving, StoreError, open_store
from . import codec
from .queue import Fleet


class FleetWorker:
    def __init__(self, fleet_url: str, store_uri: str, extract: ExtractOptions, claim_s: float = 30.0,
                 max_waiting: int = 20_000):
        self.fleet = Fleet(fleet_url, claim_ttl_s=claim_s, max_waiting=max_waiting)
        self.fleet.check()
        self.version = extract.version()
        self.counts = Counts()
        self.started = time.monotonic()
        self._group: list[bytes] = []
        try:
            self.store = open_store(store_uri, read_only=True)
        except NoStore:
            self.store = None   # nothing filed yet: every page is new
        self.fleet.heartbeat()

    def files(self, files: Iterable[Path]) -> Iterator[Path]:
        """The input files this worker reads: each one no other live worker holds and none has finished,
        claimed as it comes; then those held by workers that died before finishing them, once their claims
        expire. (A file whose live worker dies after this one has ended waits for a worker started again.)"""
        pending = list(files)
        with self._redis("share out the input files through"):
            yield from self._claimed(pending)

    def _claimed(self, pending: list[Path]) -> Iterator[Path]:
        while pending:
            waiting = []
            for path in pending:
                key = path_text(path)
                if self.fleet.claim(key):
                    yield path
                elif not self.fleet.done(key) and not self.fleet.held_by_the_living(key):
                    waiting.append(path)
            pending = waiting
            if pending:
                self.fleet.heartbeat()
                time.sleep(0.5)

    def known(self, fetched_url: str) -> Known | None:
        if self.store is None:
            return None
        try:
            return self.store.known(fetched_url)
        except ERRORS:
            return None   # (the filer decides again: an unchanged page is stored unchanged)

    def unchanged(self) -> None:
        self.counts.pages += 1
        self.counts.articles["unchanged"] += 1

    def save(self, page: Page, outcome: Article | Rejected, url_key: str | None = None) -> None:
        self.save_outcome(outcome, page.ref, page.body_sha1, url_key)

    def save_outcome(self, outcome: Article | Rejected, ref: RawRef, body_sha1: str | None,
                     url_key: str | None = None) -> None:
        self._group.append(codec.encode(Saving(outcome, ref, body_sha1, self.version, url_key)))
        self.counts.page(outcome)
        if isinstance(outcome, Article):
            self.counts.articles["new"] += 1   # (sent: the filer knows whether it is new)

    def commit(self) -> None:
        """Send the results gathered since the last commit, and say this worker is alive."""
        group, self._group = self._group, []
        with self._redis("send results to"):
            self.fleet.append(group)
            self.fleet.heartbeat()

    @contextmanager
    def _redis(self, doing: str):
        try:
            yield
        except redis.RedisError as exc:
            raise StoreError(f"cannot {doing} the fleet's Redis at {self.fleet.url}: {exc}") from None

    def close(self, status: str) -> Counts:
        """Send what is left; a finished worker marks its files done (a stopped one lets them go: another
        worker reads them again, and the filer stores what was already sent as unchanged)."""
        try:
            if status != "failed":
                self.commit()
            with self._redis("finish with"):
                if status == "finished":
                    self.fleet.mark_done()
                self.fleet.leave()
        finally:
            if self.store is not None:
                self.store.close()
            self.counts.elapsed_s = round(time.monotonic() - self.started, 3)
        return self.counts

    def failure(self, exc: BaseException) -> StoreError:
        return StoreError(f"fleet worker: {exc}")
