"""The fleet's filer alone, fed pre-extracted results by 1, 2 and 4 simulated workers (processes that add
them to the stream as fast as the back-pressure lets them), or with every result waiting when it starts
(its capacity), into PostgreSQL and, in the same run, into SQLite: articles filed per second, the delay from a result's arrival in the stream to its commit (p50, p99),
and the filer's own CPU share. Then `reprocess --fleet` of the syndication set with 1 and with 2 workers
beside a filer, against one plain `reprocess`.

    python bench/fleet.py [../shared/bench] [--copies 8] [--redis redis://127.0.0.1:6379/9] [--postgres postgresql://127.0.0.1:5432]
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

from pipelines import sources  # noqa: E402
from pipelines.fleet import codec, queue  # noqa: E402
from pipelines.fleet.filer import file_results  # noqa: E402
from pipelines.model import Page  # noqa: E402
from pipelines.options import DedupOptions, ExtractOptions, RunOptions  # noqa: E402
from pipelines.progress import Progress  # noqa: E402
from pipelines.store import Saving  # noqa: E402
from pipelines.workers import _process  # noqa: E402


def results(warc: Path, copies: int) -> list[bytes]:
    """The syndication pages extracted once, then repeated under other URLs (`copies` rounds, each an hour
    later on other hosts, as bench/dedup_stage.py's republished corpus)."""
    options, version = ExtractOptions(), ExtractOptions().version()
    made = []
    for item in sources.read([warc]):
        if isinstance(item, Page):
            made.append(Saving(_process(item, options, DedupOptions()), item.ref, item.body_sha1, version))
    out = []
    for r in range(copies):
        for s in made:
            d = codec.encode(s).decode()
            out.append(d.replace("://", f"://r{r}.").encode() if r else d.encode())
    return out


def _feed(url: str, entries: list[bytes], max_waiting: int = 2_000) -> None:
    fleet = queue.Fleet(url, max_waiting=max_waiting)
    fleet.heartbeat()
    for k in range(0, len(entries), 50):
        fleet.append(entries[k:k + 50])
    fleet.leave()


def filer_run(store: str, url: str, entries: list[bytes], workers: int) -> dict:
    """`workers` 0: every result waits in the stream before the filer starts (its capacity)."""
    redis.Redis.from_url(url).flushdb()
    if not workers:
        _feed(url, entries, max_waiting=len(entries) + 1)
    feeders = [multiprocessing.Process(target=_feed, args=(url, entries[i::workers])) for i in range(workers)]
    delays: list[float] = []
    real = queue.Fleet.acknowledge

    last = [0.0]

    def acknowledge(self, ids):   # each result's time from the stream to its commit (its id is its arrival, in ms)
        now = time.time() * 1000
        delays.extend(now - int(i.split(b"-")[0]) for i in ids)
        if ids:
            last[0] = time.perf_counter()
        real(self, ids)
    queue.Fleet.acknowledge = acknowledge
    for f in feeders:
        f.start()
    cpu, started = time.process_time(), time.perf_counter()
    try:
        counts, status = file_results(url, RunOptions(store, 1), ExtractOptions(), DedupOptions(),
                                      Progress(io.StringIO()), until_idle=0.5)
    finally:
        queue.Fleet.acknowledge = real
    cpu = (time.process_time() - cpu) / (time.perf_counter() - started)
    wall = last[0] - started   # (to the last commit: not the idle wait at the end)
    for f in feeders:
        f.join()
    assert status == "finished" and counts.pages == len(entries), (status, counts.pages)
    delays.sort()
    return {"rate": len(entries) / wall, "p50": delays[len(delays) // 2] / 1000, "p99": delays[int(len(delays) * 0.99)] / 1000,
            "cpu": cpu}


def _scrapy(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def reprocess_fleet(folder: Path, store: str, url: str, workers: int) -> float:
    redis.Redis.from_url(url).flushdb()
    started = time.perf_counter()
    procs = [_scrapy("reprocess", str(folder), "--fleet", url, "--store", store, "--workers", "1") for _ in range(workers)]
    filer = _scrapy("file", "--fleet", url, "--store", store, "--until-idle", "0.5")
    for p in procs + [filer]:
        assert p.wait(timeout=3600) == 0
    return time.perf_counter() - started - 0.5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="a Redis database the bench may empty")
    ap.add_argument("--postgres", default="postgresql://127.0.0.1:5432")
    args = ap.parse_args()
    warc = Path(args.data) / "syndication-dev.warc.gz"
    entries = results(warc, args.copies)
    name = f"wirecrawl_bench_fleet_{os.getpid()}"
    print(f"the filer alone: {len(entries)} pre-extracted results ({args.copies} rounds of the syndication set), "
          f"median of {args.rounds}; PostgreSQL and Redis local, on this machine's cores")
    print(f"  {'workers feeding':17} {'store':11} {'articles/s':>11} {'p50 delay s':>12} {'p99 delay s':>12} {'filer CPU':>10}")
    for workers in (0, 1, 2, 4):
        for backend in ("sqlite", "postgresql"):
            runs = []
            for _ in range(args.rounds):
                with tempfile.TemporaryDirectory() as tmp:
                    os.environ["XDG_CACHE_HOME"] = tmp
                    if backend == "sqlite":
                        runs.append(filer_run(f"sqlite:///{tmp}/s.sqlite", args.redis, entries, workers))
                        continue
                    try:
                        runs.append(filer_run(f"{args.postgres}/{name}", args.redis, entries, workers))
                    finally:
                        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            feeding = workers or "none: all waiting"
            print(f"  {feeding!s:<17} {backend:11} {m['rate']:11,.0f} {m['p50']:12.2f} {m['p99']:12.2f} {m['cpu']:10.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        _split(warc, folder, 8)   # the set in 8 files, so that workers can share it out
        times = {}
        for label, workers in (("1 worker + filer", 1), ("2 workers + filer", 2)):
            times[label] = statistics.median(
                reprocess_fleet(folder, f"sqlite:///{tmp}/{label[0]}-{r}.sqlite", args.redis, workers) for r in range(args.rounds))
        started = time.perf_counter()
        for r in range(args.rounds):
            subprocess.run([sys.executable, "-m", "scrapy.cmdline", "reprocess", str(folder), "--store",
                            f"sqlite:///{tmp}/plain-{r}.sqlite", "--workers", "2"], cwd=ROOT, check=True, capture_output=True)
        times["plain reprocess, 2 workers"] = (time.perf_counter() - started) / args.rounds
        print("reprocess of the syndication set (8 files), SQLite store, wall seconds (median; the plain one a mean):")
        for label, t in times.items():
            print(f"  {label:28} {t:6.2f} s")


def _split(warc: Path, folder: Path, n: int) -> None:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    outs = [open(folder / f"part{i}.warc.gz", "wb") for i in range(n)]
    writers = [WARCWriter(o, gzip=True) for o in outs]
    with open(warc, "rb") as f:
        for i, record in enumerate(r for r in ArchiveIterator(f) if r.rec_type == "response"):
            writers[i % n].write_record(record)
    for o in outs:
        o.close()


if __name__ == "__main__":
    main()
