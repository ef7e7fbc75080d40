"""A worker of a fleet (a `reprocess --fleet` or a `crawl` with FLEET_REDIS): the run's pages go to the
fleet's stream instead of the store, where the filer (filer.py) stores and files them. It has what a run
asks of an Ingest (`known` and `seen`, read from the store, read-only, when there is one yet;
`save_outcome`, `unchanged`, `commit`, `close`, the crawl state), and the claims that share out the work:
input files, outlets, hosts and article URLs."""
from __future__ import annotations

import os
import sys
import time
from collections import deque
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
from .queue import Fleet, FleetRestarted


class FleetWorker:
    def __init__(self, fleet_url: str, store_uri: str, extract: ExtractOptions, claim_s: float = 30.0,
                 max_waiting: int = 20_000, force: bool = False, blocking: bool = True):
        """`blocking`: wait in `commit` while the stream is full (a reprocess); a crawl, which must not block
        its downloads, pauses its engine instead (`backlogged`)."""
        self.fleet = Fleet(fleet_url, claim_ttl_s=claim_s, max_waiting=max_waiting)
        self.fleet.check()
        self.version = extract.version()
        self._files_done = f"file:{self.version}" + (":force" if force else "")   # (a new rule reads all again)
        self.counts = Counts()
        self.started = time.monotonic()
        self._blocking = blocking
        self._group: list[bytes] = []
        self._group_keys: list[str] = []
        self._files: list[str] = []   # the input files this worker claimed (done when it finishes)
        # what this worker sent and the filer has not filed yet: (stream id, result, URL key), sent again
        # if Redis restarts empty
        self._outbox: deque[tuple[tuple[int, int], bytes, str | None]] = deque()
        self._finished: list[tuple[str, str]] = []   # (kind, name) this worker finished (said again after a restart)
        self.restarts = 0
        self._claim_s = claim_s
        self._restarted_at = float("-inf")
        try:
            self.store = open_store(store_uri, read_only=True)
        except NoStore:
            self.store = None   # nothing filed yet: every page is new
        with self._redis("join the fleet at"):
            self.fleet.heartbeat()

    # -- sharing out input files (reprocess) ------------------------------------------------------
    def files(self, files: Iterable[Path]) -> Iterator[Path]:
        """The input files this worker reads: each one no other live worker holds and none has finished
        (with this extractor, at this size), claimed as it comes; then those held by workers that died before
        finishing them, once their claims expire. (A file whose live worker dies after this one has ended
        waits for a worker started again.)"""
        pending = list(files)
        with self._redis("share out the input files through"):
            yield from self._claimed(pending)

    def _claimed(self, pending: list[Path]) -> Iterator[Path]:
        while pending:
            waiting = []
            for path in pending:
                key = path_text(path)
                if self.fleet.done(self._files_done, _identity(path)):
                    continue
                if self._claim("file", key):
                    self._files.append(key)
                    yield path
                elif not self.fleet.held_by_the_living("file", key):
                    waiting.append(path)
            pending = waiting
            if pending:
                self.fleet.heartbeat()
                time.sleep(0.5)

    # -- sharing out outlets, hosts and article URLs (crawl) --------------------------------------
    def lease(self, kind: str, name: str) -> bool:
        """Hold an outlet or a host (renewed while this worker lives) unless another worker does. For a
        claim time after Redis lost what it held, no new outlet is taken: the live workers say again which
        they finished (and take their own back) within it."""
        if kind == "outlet" and time.monotonic() - self._restarted_at < self._claim_s:
            return False
        with self._redis("share out the work through"):
            if kind != "outlet":
                return self._claim(kind, name)
            try:   # (the epoch is checked with the claim: a finished mark found missing before may be lost)
                return self.fleet.claim(kind, name)
            except FleetRestarted as exc:
                self._rejoin(exc)
                return False

    def finished(self, kind: str, name: str) -> None:
        """An outlet crawled whole: its results and validators are sent with the next commit."""
        self.commit()
        with self._redis("share out the work through"):
            self.fleet.mark_done(kind, [name])
        self._finished.append((kind, name))

    def let_go(self, kind: str, name: str, after_s: float = 0.0) -> None:
        """Let another worker have it, at once or after `after_s` seconds (a host's delay, a Retry-After)."""
        with self._redis("share out the work through"):
            self.fleet.release(kind, name, after_ms=after_s * 1000)

    def done_since_start(self, kind: str, name: str) -> bool:
        """Finished by some worker since this one started?"""
        with self._redis("share out the work through"):
            return self.fleet.done(kind, name, since_ms=self.fleet.started_ms)

    def claim_url(self, url_key: str) -> bool:
        """Take an article URL before fetching it, unless another worker holds it or has sent its result."""
        with self._redis("claim article URLs through"):
            if self._claim("url", url_key):
                return True
        self.counts.fetched_elsewhere += 1
        return False

    def release_url(self, url_key: str) -> None:
        """Not fetched after all (a failed download): any worker may try it again."""
        with self._redis("claim article URLs through"):
            self.fleet.release("url", url_key)

    def backlogged(self) -> bool:
        with self._redis("send results to"):
            return self.fleet.backlogged()

    # -- the run, as Ingest has it ------------------------------------------------------------------
    def known(self, fetched_url: str) -> Known | None:
        if self.store is None:
            return None
        try:
            return self.store.known(fetched_url)
        except ERRORS:
            return None   # (the filer decides again: an unchanged page is stored unchanged)

    def seen(self, url_key: str) -> bool:
        if self.store is None:
            return False
        try:
            return self.store.seen(url_key)
        except ERRORS:
            return False   # (then claimed and fetched: the filer stores it unchanged)

    def fetch_state(self, url: str) -> tuple[str | None, str | None]:
        if self.store is None:
            return None, None
        try:
            return self.store.fetch_state(url)
        except ERRORS:
            return None, None   # (read in full)

    def keep_fetch_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """A source's validators, sent after the results of the articles it listed."""
        self._group.append(codec.encode_fetch_state(url, etag, last_modified))
        self._group_keys.append(None)

    def unchanged(self) -> None:
        self.counts.pages += 1
        self.counts.articles["unchanged"] += 1

    def save(self, page: Page, outcome: Article | Rejected, url_key: str | None = None) -> None:
        self.save_outcome(outcome, page.ref, page.body_sha1, url_key)

    def save_outcome(self, outcome: Article | Rejected, ref: RawRef, body_sha1: str | None,
                     url_key: str | None = None) -> None:
        self._group.append(codec.encode(Saving(outcome, ref, body_sha1, self.version, url_key)))
        self._group_keys.append(url_key)
        self.counts.page(outcome)
        if isinstance(outcome, Article):
            self.counts.articles["new"] += 1   # (sent: the filer knows whether it is new)

    def commit(self) -> None:
        """Send the results gathered since the last commit (a blocking worker waits first while the stream
        is full), and say this worker is alive."""
        group, self._group = self._group, []
        keys, self._group_keys = self._group_keys, []
        with self._redis("send results to"):
            if group:
                self._send(group, keys)
            self._settle()
            self.fleet.heartbeat(force=False)

    def _send(self, group: list[bytes], keys: list[str | None]) -> None:
        ids = self.fleet.append(group, wait=self._blocking)
        self._outbox.extend(zip(ids, group, keys))
        self.fleet.sent([k for k in keys if k is not None])

    def _settle(self) -> None:
        """Forget what the filer has filed; if Redis lost what it held, join it again."""
        try:
            before = self.fleet.filed_before()
        except FleetRestarted as exc:
            self._rejoin(exc)
            return
        while self._outbox and (before is None or self._outbox[0][0] < before):
            self._outbox.popleft()

    def _rejoin(self, exc: FleetRestarted) -> None:
        """Redis lost what it held: take the claims again, say again which outlets this worker finished, and
        send again what was not filed (the filer stores a result it had already stored as unchanged)."""
        self.restarts += 1
        self._restarted_at = time.monotonic()
        print(f"fleet worker: {exc}; sending again the {len(self._outbox)} results not filed", file=sys.stderr,
              flush=True)
        self.fleet.join()
        self.fleet.reclaim()
        self.fleet.heartbeat()
        for kind, name in self._finished:   # (so no worker crawls them again)
            self.fleet.mark_done(kind, [name])
        lost, self._outbox = list(self._outbox), deque()
        for i in range(0, len(lost), 500):
            part = lost[i:i + 500]
            self._send([data for _, data, _ in part], [key for _, _, key in part])

    def _claim(self, kind: str, name: str) -> bool:
        """A claim, taken again on what Redis holds once this worker has joined it again after a restart."""
        for _ in range(3):
            try:
                return self.fleet.claim(kind, name)
            except FleetRestarted as exc:
                self._rejoin(exc)
        raise StoreError(f"the fleet's Redis at {self.fleet.url} keeps losing what it holds (restarting?)")

    def filed(self) -> bool:
        """Has the filer filed all this worker sent? (A worker's files are done only then.)"""
        with self._redis("send results to"):
            self._settle()
            self.fleet.heartbeat(force=False)
        return not self._outbox

    @contextmanager
    def _redis(self, doing: str):
        try:
            yield
        except redis.RedisError as exc:
            raise StoreError(f"cannot {doing} the fleet's Redis at {self.fleet.url}: {exc}") from None

    def close(self, status: str) -> Counts:
        """Send what is left; a finished worker waits until the filer has filed it all, then marks its files
        done (a stopped one lets them go: another worker reads them again, and the filer stores what was
        already sent as unchanged)."""
        try:
            if status != "failed":
                self.commit()
            if status == "finished" and not self._wait_filed():
                status = "interrupted"
            with self._redis("finish with"):
                if status == "finished":
                    self.fleet.mark_done(self._files_done, [_identity(Path(p)) for p in self._files])
                self.fleet.leave()
        finally:
            if self.store is not None:
                self.store.close()
            self.counts.elapsed_s = round(time.monotonic() - self.started, 3)
        return self.counts

    def _wait_filed(self) -> bool:
        """Wait for the filer to file what this worker sent (Ctrl-C stops waiting: False)."""
        said = False
        try:
            while not self.filed():
                if not said:
                    print(f"fleet worker: waiting for the filer to store the last {len(self._outbox)} results",
                          file=sys.stderr, flush=True)
                    said = True
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("fleet worker: stopped waiting; its files are left to the next worker", file=sys.stderr, flush=True)
            return False
        return True

    def failure(self, exc: BaseException) -> StoreError:
        return StoreError(f"fleet worker: {exc}")


def _identity(path: Path) -> str:
    """A file as finished: its path and size (an archive a crawl is still writing grows)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = -1
    return f"{path_text(path)} ({size} bytes)"
