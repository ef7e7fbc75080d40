"""The dedup stage alone (fingerprint, LSH query, verify, insert, story update, with its SQLite writes)
on pre-cleaned texts, against a plain datasketch baseline (a MinHash built per article with its default
hash, then MinHashLSH query + insert, nothing stored); then the index at scale: resident memory, time to
reopen from the store, and inserts plus queries per second.

    python bench/dedup_stage.py [../shared/bench] [--articles 5120] [--index-sizes 25000,100000]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasketch import MinHash, MinHashLSH  # noqa: E402

from pipelines.model import Article, RawRef  # noqa: E402
from pipelines.options import DedupOptions  # noqa: E402
from pipelines.store import open_store  # noqa: E402
from pipelines.stories import Stories  # noqa: E402
from pipelines.stories.fingerprint import Signer, words  # noqa: E402


def corpus(data: Path, n: int) -> list[tuple[str, str, str]]:
    """(url, text, published): the labelled bodies, repeated in rounds 30 days apart (so each round
    forms the same stories again, and the window moves on)."""
    labels = json.loads((data / "syndication-dev.labels.json").read_text())
    out = []
    for r in range(-(-n // len(labels))):
        for url, v in labels.items():
            t = datetime.fromisoformat(v["published"]) + timedelta(days=30 * r)
            out.append((f"{url}#r{r}", "\n".join(v["body"]), t.isoformat()))
    return out[:n]


def run_ours(items, tmp: Path) -> float:
    store = open_store(f"sqlite:///{tmp / 'ours.sqlite'}")
    for url, text, published in items:  # the articles are stored first: only filing is timed
        host = url.split("/")[2]
        store.save(Article(url, url, None, None, [], published, None, None, host, "en", None, [], None, None, None,
                           None, text.split("\n"), published), RawRef("x"), "s", "v")
    stories = Stories(store, DedupOptions())
    started = time.perf_counter()
    stories.file_unfiled()
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def run_baseline(items) -> float:
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for url, text, _ in items:
        ws = words(text)
        m = MinHash(num_perm=128)
        for i in range(max(1, len(ws) - 4)):
            m.update(" ".join(ws[i:i + 5]).encode())
        lsh.query(m)
        lsh.insert(url, m)
    return time.perf_counter() - started


def index_scale(size: int) -> dict:
    """Run in a fresh process (so its memory is its own): file `size` synthetic signatures, reopen."""
    code = f"""
import resource, sys, tempfile, time, numpy as np
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from pipelines.options import DedupOptions
from pipelines.store import open_store
from pipelines.stories import Stories
from pipelines.stories.index import WindowIndex
o = DedupOptions()
rng = np.random.default_rng(1)
tmp = Path(tempfile.mkdtemp())
store = open_store(f"sqlite:///{{tmp / 'i.sqlite'}}")
t = "2025-03-01T00:00:00+00:00"
with store.transaction():
    tables = store.stories()
    tables.set_params({{**__import__('dataclasses').asdict(o)}})
    for i in range({size}):
        tables.put_signature(f"u{{i}}", t, "h", rng.integers(0, 2**32, o.num_perm, dtype=np.uint32), np.zeros(1, np.uint32))
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
stories = Stories(store, o)
reopen = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
idx = stories.index
probes = rng.integers(0, 2**32, (20000, o.num_perm), dtype=np.uint32)
started = time.perf_counter()
for i, sig in enumerate(probes):
    idx.query(sig)
    idx.add(f"p{{i}}", t, 1, sig)
ops = 2 * len(probes) / (time.perf_counter() - started)
print(reopen, (rss - rss0) / 1024, rss / 1024, ops, len(idx))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    reopen, index_mb, rss_mb, ops, n = map(float, out)
    return {"size": size, "reopen_s": reopen, "index_mb": index_mb, "rss_mb": rss_mb, "ops_per_s": ops}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--articles", type=int, default=5120)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--index-sizes", default="25000,100000")
    args = ap.parse_args()
    items = corpus(Path(args.data), args.articles)
    mean_words = statistics.mean(len(t.split()) for _, t, _ in items)
    signer = Signer(DedupOptions())
    started = time.perf_counter()
    for _, text, _ in items:
        signer.fingerprint(text)
    sign_rate = len(items) / (time.perf_counter() - started)
    ours, base = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(run_ours(items, Path(tmp)))
        base.append(run_baseline(items))
    o, b = statistics.median(ours), statistics.median(base)
    print(f"{len(items)} pre-cleaned articles (mean {mean_words:.0f} words), one core, median of {args.rounds}:")
    print(f"  fingerprint only: {sign_rate:,.0f} articles/s")
    print(f"  wirecrawl dedup stage (fingerprint, query, verify, insert, story update, SQLite writes): "
          f"{len(items) / o:,.0f} articles/s")
    print(f"  baseline (MinHash per article, default hash, LSH query + insert, nothing stored): {len(items) / b:,.0f} articles/s")
    print(f"  ratio wirecrawl / baseline speed: {b / o:.2f}x   (target: >= 20,000 articles/s)")
    for size in (int(s) for s in args.index_sizes.split(",") if s):
        r = index_scale(size)
        print(f"  index of {size:,} signatures: reopen {r['reopen_s']:.1f} s, index memory {r['index_mb']:,.0f} MB "
              f"(process {r['rss_mb']:,.0f} MB), inserts + queries {r['ops_per_s']:,.0f}/s "
              f"(at 1,000,000: memory x{1_000_000 / size:.0f} -> ~{r['index_mb'] * 1_000_000 / size / 1024:.1f} GB, "
              f"reopen ~{r['reopen_s'] * 1_000_000 / size:.0f} s; targets < 1.5 GB, < 5 s, > 10,000/s)")


if __name__ == "__main__":
    main()
