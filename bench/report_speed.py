"""How long `scrapy dedup-report -o report.html` takes on a store of 100,000 articles, against the JSON report
of the same store in the same run (the page adds the charts and a paragraph diff of every member it shows).

The store is synthetic but real-shaped: every article has a body of ~8 paragraphs; about 60 % of them are in
syndicated stories (sizes skewed: most have 2-5 members, a few dozens), whose copies are trimmed, given a
local paragraph, or have words changed, on other hosts, hours later. It is written straight into the store's
tables (filing 100,000 articles through the dedup stage is another benchmark's job: `dedup_stage.py`).

    python bench/report_speed.py [--articles 100000] [--repeat 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, SCRAPY  # noqa: E402
from pipelines.store import open_store  # noqa: E402
from pipelines.stories.origin import site_of  # noqa: E402

VOCAB = np.array(("officials said the county state city council federal judge police residents company workers "
                  "school board union report plan budget election voters governor mayor senator court agency "
                  "hospital river bridge storm flood fire road rail airport market prices shares bank loan tax rule "
                  "law bill vote hearing inquiry million billion percent year month week day night morning").split())
HOSTS = [f"www.outlet{i}.example" for i in range(300)]
WIRES = ["AP", "Reuters", "AFP", None]
T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def paragraphs(rng: np.random.Generator, n: int) -> list[str]:
    words = VOCAB[rng.integers(0, len(VOCAB), size=n * 45)]
    return [" ".join(words[i * 45:(i + 1) * 45]).capitalize() + "." for i in range(n)]


def copy_of(rng: np.random.Generator, origin: list[str]) -> list[str]:
    kind = rng.integers(0, 3)
    if kind == 0:  # trimmed
        return origin[:max(3, int(len(origin) * rng.uniform(0.55, 0.85)))]
    if kind == 1:  # a local paragraph
        return origin + paragraphs(rng, 1)
    edited = list(origin)  # words changed in two paragraphs
    for i in rng.choice(len(edited), size=2, replace=False):
        words = edited[i].split()
        words[int(rng.integers(0, len(words)))] = "changed"
        edited[i] = " ".join(words)
    return edited


def build_store(path: Path, n_articles: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    store = open_store(f"sqlite:///{path}")
    db = store.db
    articles, signatures, stories, members = [], [], [], []
    n_story, made = 0, 0
    while made < n_articles:
        syndicated = rng.random() < 0.27
        size = int(min(60, 2 + rng.zipf(1.8))) if syndicated else 1
        size = min(size, n_articles - made)
        origin = paragraphs(rng, 8)
        start = T0 + timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))
        wire = WIRES[int(rng.integers(0, len(WIRES)))]
        story_id = f"s{n_story:016x}"
        ids = []
        for k in range(size):
            host = HOSTS[int(rng.integers(0, len(HOSTS)))]
            url = f"https://{host}/news/{n_story}-{k}"
            text = origin if k == 0 else copy_of(rng, origin)
            t = start + timedelta(minutes=int(k and rng.integers(5, 60 * 48)))
            title = f"Story {n_story}" if k == 0 or rng.random() < 0.6 else f"Local headline {n_story}-{k}"
            article_id = len(articles) + 1
            articles.append((article_id, url, url, None, title, "[]", t.isoformat(), None, host, host, "en", None, "[]", None,
                             None, None, wire, "[]", "\n".join(text), t.isoformat(), "bench.warc.gz", 0,
                             "sha1", "bench"))
            signatures.append((article_id, url, t.isoformat(), "h", 0, b"", b""))
            members.append((article_id, ids[0][0] if ids else article_id, "origin" if k == 0 else "syndicated",
                            1.0 if k == 0 else float(rng.uniform(0.4, 0.95)), t.isoformat(), site_of(host)))
            ids.append((article_id, url))
        stories.append((ids[0][0], story_id, ids[0][1], "earliest published", size))
        n_story += 1
        made += size
    with store.transaction():
        db.executemany("INSERT INTO articles (id, fetched_url, url, canonical_url, title, authors, published, modified, "
                       "site_name, host, language, description, tags, image, image_caption, image_credit, wire_source, "
                       "left_out, text, fetched_at, archive_path, archive_offset, body_sha1, extractor_version) "
                       f"VALUES ({', '.join('?' * 24)})", articles)
        db.executemany("INSERT INTO signatures (article, fetched_url, t, text_hash, n_shingles, minhash, shingles) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", signatures)
        db.executemany("INSERT INTO stories VALUES (?, ?, ?, ?, ?)", stories)
        db.executemany("INSERT INTO story_members VALUES (?, ?, ?, ?, ?, ?)", members)
    store.close()
    return {"articles": len(articles), "stories": len(stories), "syndicated": sum(s[4] > 1 for s in stories)}


def timed(store: Path, out: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(SCRAPY + ["dedup-report", "--store", f"sqlite:///{store}", "-o", str(out), *extra], cwd=ROOT,
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the store and reports in DIR")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="wirecrawl-report-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store.sqlite"
    if not store.exists():
        started = time.perf_counter()
        shape = build_store(store, args.articles)
        print(f"store: {shape['articles']:,} articles, {shape['stories']:,} stories ({shape['syndicated']:,} syndicated), "
              f"built in {time.perf_counter() - started:.1f} s")
    runs = {"json": [], "html (500 stories)": [], "html (5,000 stories)": []}
    for _ in range(args.repeat):  # alternated, so both see the same machine
        runs["json"].append(timed(store, work / "report.json"))
        runs["html (500 stories)"].append(timed(store, work / "report.html"))
        runs["html (5,000 stories)"].append(timed(store, work / "report-5000.html", "--max-stories", "5000"))
    base = statistics.median(runs["json"])
    print(f"{'report':<22}{'median s':>10}{'vs json':>9}{'size':>10}")
    for name, out in zip(runs, ("report.json", "report.html", "report-5000.html")):
        med = statistics.median(runs[name])
        print(f"{name:<22}{med:>10.2f}{med / base:>9.2f}{(work / out).stat().st_size / 1e6:>8.1f} MB")
    print(f"(medians of {args.repeat}; each run is the whole command, Python and Scrapy start included)")


if __name__ == "__main__":
    main()
