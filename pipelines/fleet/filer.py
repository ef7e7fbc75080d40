"""The fleet's filer: the one writer of the store. It reads the workers' results from the stream with a
consumer group, stores and files each batch in one transaction (Ingest.commit), and only then acknowledges
it: a filer killed in between has its batch read again by the next one, and saving it again changes
nothing (each page comes back `unchanged`). A second filer waits on the store's writer lock and takes over
when the first one's lock goes."""
from __future__ import annotations

import os
import signal
import socket
import time

import redis

from ..ingest import Counts, Ingest
from ..options import DedupOptions, ExtractOptions, RunOptions
from ..progress import Progress
from ..store import ERRORS, StoreBusy, StoreError
from . import codec
from .queue import Fleet

_PING_EVERY_S = 2.0   # while idle, the filer checks that it still holds the store


def file_results(fleet_url: str, run: RunOptions, extract: ExtractOptions, dedup: DedupOptions, progress: Progress,
                 until_idle: float | None = None, batch: int = 500) -> tuple[Counts, str]:
    """File the fleet's results until SIGTERM (or, with `until_idle`, until the stream has been empty and no
    worker alive for that many seconds); returns the counts and the run's status."""
    fleet = Fleet(fleet_url)
    fleet.check()
    stop = {"asked": False}

    def ask_stop(signum, frame) -> None:
        stop["asked"] = True

    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ingest = _take_the_store(run, extract, dedup, fleet_url, progress, stop)
        if ingest is None:
            return Counts(), "interrupted"
        status = "failed"
        consumer = f"filer-{socket.gethostname()}-{os.getpid()}"
        idle_since = pinged = time.monotonic()
        try:
            fleet.ensure_group()
            while not stop["asked"]:
                entries = fleet.take(consumer, batch, block_ms=500)
                for _, data in entries:
                    try:
                        s = codec.decode(data)
                    except ValueError:
                        ingest.counts.error("bad_result")   # (not ours: acknowledged and dropped, counted)
                        continue
                    if isinstance(s, codec.FetchState):   # (after the pages its source listed)
                        ingest.keep_fetch_state(*s)
                    else:
                        ingest.save_outcome(s.result, s.ref, s.body_sha1, s.url_key, version=s.version)
                ingest.commit()
                fleet.acknowledge([i for i, _ in entries])
                waiting = fleet.waiting()
                progress.update(ingest.counts, results_waiting=waiting)
                if not entries and time.monotonic() - pinged >= _PING_EVERY_S:
                    ingest.store.ping()   # (a filer whose session the server ended says so, and stops)
                    pinged = time.monotonic()
                if entries or waiting or fleet.workers_alive():
                    idle_since = time.monotonic()
                elif until_idle is not None and time.monotonic() - idle_since >= until_idle:
                    break
            status = "finished"
        except redis.RedisError as exc:
            raise StoreError(f"cannot read results from the fleet's Redis at {fleet_url}: {exc}") from None
        except ERRORS as exc:
            raise ingest.failure(exc) from exc
        finally:
            progress.close()
            ingest.close(status)
        return ingest.counts, status
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _take_the_store(run: RunOptions, extract: ExtractOptions, dedup: DedupOptions, fleet_url: str,
                    progress: Progress, stop: dict) -> Ingest | None:
    """The store, held for writing; while another filer holds it, wait (a standby), saying so once."""
    said = False
    while not stop["asked"]:
        try:
            return Ingest(run.store_uri, "filer", extract, dedup, run.template_min_articles,
                          {"fleet": fleet_url, "store_uri": run.store_uri})
        except StoreBusy as exc:
            if not said:
                held = str(exc).split("; this filer exits")[0]
                progress.say(f"standing by: {held}; this filer takes over when it stops")
                said = True
            time.sleep(1.0)
    return None
