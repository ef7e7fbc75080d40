"""Speed: `scrapy reprocess` (extract, clean, store) against trafilatura's own CLI doing extraction alone
(`trafilatura --input-dir --parallel N`), alternated in one run on the same folder of pages; 1 against 2
workers (on the folder, and on 5 copies of it), beside the CLI's own 1 against 2 processes; each tool's fixed cost
(a run of one page) and steady cost per further page; and resident memory over a run of 5,000 pages (the same
pages many times), with the CLI timed once on that large folder too.

    python bench/speed.py [../shared/bench] [--rounds 3] [--memory-pages 5000] [--scaling-copies 5]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_reprocess  # noqa: E402

TRAFILATURA = str(Path(sys.executable).with_name("trafilatura"))


def write_pages(warc: Path, folder: Path, copies: int = 1) -> int:
    """The WARC's pages as .html files (`copies` times, under distinct names); returns the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    bodies = [r.reader.read() for r in ArchiveIterator(open(warc, "rb"), record_types=WarcRecordType.response)]
    n = 0
    for c in range(copies):
        for i, body in enumerate(bodies):
            (folder / f"p{c:03d}-{i:04d}.html").write_bytes(body)
            n += 1
    return n


def time_trafilatura(folder: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([TRAFILATURA, "--input-dir", str(folder), "--output-dir", out, "--parallel", str(workers),
                        "--precision", "--no-comments"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started


def time_reprocess(folder: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return run_reprocess([str(folder)], Path(tmp) / "s.sqlite", workers)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def memory_run(folder: Path, workers: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", "reprocess", str(folder), "--store",
                                 f"sqlite:///{Path(tmp) / 's.sqlite'}", "--workers", str(workers)],
                                cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL)
        samples: list[float] = []
        started = time.perf_counter()
        while proc.poll() is None:
            samples.append(tree_rss_mb(proc.pid))
            time.sleep(1)
        return time.perf_counter() - started, samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--memory-pages", type=int, default=5000)
    ap.add_argument("--scaling-copies", type=int, default=5,
                    help="also time 1 against 2 workers on this many copies of the pages (0: skip)")
    args = ap.parse_args()
    warc = Path(args.data) / "syndication-dev.warc.gz"
    tmp = Path(tempfile.mkdtemp())
    try:
        pages = write_pages(warc, tmp / "pages")
        (tmp / "one").mkdir()
        shutil.copy(min((tmp / "pages").iterdir()), tmp / "one")
        print(f"{pages} pages ({sum(p.stat().st_size for p in (tmp / 'pages').iterdir()) / 1e6:.0f} MB), {args.rounds} alternated rounds")
        tools = {"trafilatura-cli": time_trafilatura, "reprocess": time_reprocess}
        times: dict[str, list[float]] = {f"{t}-{n}": [] for t in tools for n in (2, 1)}
        start: dict[str, list[float]] = {k: [] for k in times}   # one page: the fixed start and end
        for _ in range(args.rounds):
            for tool, timer in tools.items():
                for n in (2, 1):
                    times[f"{tool}-{n}"].append(timer(tmp / "pages", n))
                    start[f"{tool}-{n}"].append(timer(tmp / "one", n))
        med = {k: statistics.median(v) for k, v in times.items()}
        fixed = {k: statistics.median(v) for k, v in start.items()}
        for k, v in times.items():
            print(f"  {k:18s} median {med[k]:6.2f} s  ({pages / med[k]:5.1f} pages/s)  runs {', '.join(f'{x:.2f}' for x in v)}")
        print(f"ratio reprocess / trafilatura CLI, 2 processes: {med['reprocess-2'] / med['trafilatura-cli-2']:.2f} (target <= 1.0)")
        print(f"speed-up 2 workers over 1: {med['reprocess-1'] / med['reprocess-2']:.2f}x (target >= 1.8); "
              f"trafilatura CLI's own, 2 processes over 1: {med['trafilatura-cli-1'] / med['trafilatura-cli-2']:.2f}x")
        # The run of one page is the fixed cost (start-up, the first page, the end); what the full run takes
        # beyond it, per further page, is the steady rate. Over few pages the fixed cost weighs on a ratio.
        per = {k: (med[k] - fixed[k]) / (pages - 1) * 1000 for k in med}
        for tool in tools:
            print(f"  {tool}: one page takes {fixed[tool + '-2']:.2f} s with 2 processes, {fixed[tool + '-1']:.2f} s with 1; "
                  f"each further page {per[tool + '-2']:.1f} ms with 2, {per[tool + '-1']:.1f} ms with 1 "
                  f"(steady speed-up {per[tool + '-1'] / per[tool + '-2']:.2f}x)")
        if args.scaling_copies:
            # The same, on a larger folder: the fixed start (Scrapy's import, the workers' import of the
            # extractor: ~0.8 s before the first page) weighs less, the per-page scaling shows.
            n = write_pages(warc, tmp / "scaling", args.scaling_copies)
            runs: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(2):
                for w in (1, 2):
                    runs[w].append(time_reprocess(tmp / "scaling", w))
            one, two = statistics.median(runs[1]), statistics.median(runs[2])
            print(f"  {n} pages: 1 worker {one:.1f} s, 2 workers {two:.1f} s (median of 2 each): speed-up {one / two:.2f}x")
            shutil.rmtree(tmp / "scaling")
        if args.memory_pages:
            copies = -(-args.memory_pages // pages)
            n = write_pages(warc, tmp / "many", copies)
            seconds, rss = memory_run(tmp / "many", 2)
            q = max(1, len(rss) // 4)
            print(f"memory over {n} pages ({seconds:.0f} s, 2 workers, main + workers): first quarter max "
                  f"{max(rss[:q]):.0f} MB, last quarter max {max(rss[-q:]):.0f} MB, overall max {max(rss):.0f} MB")
            cli = time_trafilatura(tmp / "many", 2)  # the same large folder (each page `copies` times): one run each
            print(f"  same {n} pages, trafilatura CLI 2 processes {cli:.0f} s: ratio reprocess / CLI {seconds / cli:.2f} "
                  f"(every story {copies}x larger, so filing weighs more; the fixed start weighs less)")
            tenth = max(1, len(rss) // 10)
            print("  max per tenth of the run (MB):", ", ".join(f"{max(rss[i:i + tenth]):.0f}" for i in range(0, len(rss), tenth)))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
