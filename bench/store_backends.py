"""Saving and filing on each store backend, in one run: SQLite (a file) beside PostgreSQL (a database made for
the run on the server given, dropped after), on the labelled syndication bodies repeated in rounds (as
bench/dedup_stage.py), saved and filed as the main process of reprocess and crawl does it (words hashed and
signed by the extraction workers; 20 articles a batch, each batch one transaction). Prints articles per second,
the ratio of PostgreSQL to SQLite, and the statements each article costs (calls to the engine, and the
statements they carry: an executemany of n rows is one call of n statements).

    python bench/store_backends.py [../shared/bench] [--articles 5120] [--rounds 3] [--postgres postgresql://127.0.0.1:5432]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from dedup_stage import _article, corpus  # noqa: E402

from pipelines.model import RawRef  # noqa: E402
from pipelines.options import DedupOptions  # noqa: E402
from pipelines.steps.templates import clean_body  # noqa: E402
from pipelines.store import Saving, open_store  # noqa: E402
from pipelines.stories import Stories  # noqa: E402
from pipelines.stories.fingerprint import Signer  # noqa: E402


class Counting:
    """The store's connection, counting what is sent through it."""

    def __init__(self, db):
        self.db, self.calls, self.statements = db, 0, 0

    def execute(self, sql, params=()):
        self.calls += 1
        self.statements += 1
        return self.db.execute(sql, params)

    def executemany(self, sql, rows, **kwargs):
        rows = list(rows)
        self.calls += 1
        self.statements += len(rows)
        return self.db.executemany(sql, rows, **kwargs)

    def __getattr__(self, name):
        return getattr(self.db, name)


def run(uri: str, items, batch_size: int = 20) -> dict:
    store = open_store(uri)
    signer = Signer(DedupOptions())
    articles = []
    for url, text, published in items:   # made before the clock starts: the workers' part
        a = _article(url, text, published)
        a.line_words = signer.line_words(a.lines, sign=True)
        a.body = clean_body(a.lines, a.title, frozenset())
        articles.append(a)
    counting = store._db = Counting(store._db)
    stories = Stories(store, DedupOptions())
    server = _backend_pid(store)
    cpu0, server0 = time.process_time(), _cpu_seconds(server)
    out = {}
    saved = filed = 0.0
    calls = statements = 0
    c_start = counting.calls
    for k in range(0, len(articles), batch_size):
        batch = articles[k:k + batch_size]
        started = time.perf_counter()
        with store.transaction():
            store.save_many([Saving(a, RawRef("x"), "s", "v") for a in batch])
            middle = time.perf_counter()
            c0, s0 = counting.calls, counting.statements
            stories.file_all({a.fetched_url: a for a in batch})
            calls += counting.calls - c0
            statements += counting.statements - s0
        ended = time.perf_counter()
        saved += middle - started
        filed += ended - middle
    wall = saved + filed
    out["client_cpu"] = (time.process_time() - cpu0) / wall
    out["server_cpu"] = (_cpu_seconds(server) - server0) / wall if server else 0.0
    out["save_calls"] = (counting.calls - c_start - calls) / len(articles)
    out["file_calls"] = calls / len(articles)
    out["file_statements"] = statements / len(articles)
    out["saved"] = len(articles) / saved
    out["filed"] = len(articles) / filed
    out["both"] = len(articles) / (saved + filed)
    store._db = counting.db
    stories.close()
    store.close()
    return out


def _backend_pid(store) -> int | None:
    """The PostgreSQL server process of the store's connection (on this machine), or None for SQLite."""
    return store.db.execute("SELECT pg_backend_pid()").fetchone()[0] if store.db.__class__.__name__ != "Connection" \
        and hasattr(store.db, "conn") else None


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--articles", type=int, default=5120)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=20, help="articles a transaction (a filer takes more at once)")
    ap.add_argument("--postgres", default=os.environ.get("WIRECRAWL_BENCH_POSTGRES", "postgresql://127.0.0.1:5432"),
                    help="a server where the bench may make and drop a database")
    args = ap.parse_args()
    items = corpus(Path(args.data), args.articles)
    results: dict[str, list[dict]] = {"sqlite": [], "postgresql": []}
    name = f"wirecrawl_bench_{os.getpid()}"
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["XDG_CACHE_HOME"] = tmp   # (the PostgreSQL store's band index)
            results["sqlite"].append(run(f"sqlite:///{tmp}/s.sqlite", items, args.batch))
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            try:
                results["postgresql"].append(run(f"{args.postgres}/{name}", items, args.batch))
            finally:
                with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    med = {b: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for b, rs in results.items()}
    sq, pg = med["sqlite"], med["postgresql"]
    print(f"{len(items)} articles saved then filed {args.batch} to a transaction (20: as the main process of reprocess and crawl does); "
          f"median of {args.rounds} rounds, one core; PostgreSQL at {args.postgres} (local)")
    print(f"  {'':34} {'SQLite':>12} {'PostgreSQL':>12} {'PG/SQLite':>10}")
    for key, label in (("saved", "saving, articles/s"), ("filed", "filing, articles/s"), ("both", "saving + filing, articles/s")):
        print(f"  {label:34} {sq[key]:12,.0f} {pg[key]:12,.0f} {pg[key] / sq[key]:10.2f}")
    print(f"  {'CPU / wall time: this process':34} {sq['client_cpu']:12.2f} {pg['client_cpu']:12.2f}")
    print(f"  {'CPU / wall time: the server':34} {'':12} {pg['server_cpu']:12.2f}")
    for key, label in (("save_calls", "saving: calls an article"), ("file_calls", "filing: calls an article"),
                       ("file_statements", "filing: statements an article")):
        print(f"  {label:34} {sq[key]:12.1f} {pg[key]:12.1f}")


if __name__ == "__main__":
    main()
