"""Crawl speed: `scrapy crawl news` over a local network serving the syndication-dev pages (one local
host per outlet, a feed each), against `scrapy reprocess` of the same pages, with the same number of
extraction processes, alternated.

    python bench/crawl_speed.py [../shared/bench] [--rounds 3] [--workers 2] [--copies N]

`--copies N` serves every page N times under different URLs (and reprocesses a WARC of the same N copies):
with more pages, the fixed costs of each run (start, robots.txt and feeds before the first article) weigh
less and the two steady rates show.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecordType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_reprocess  # noqa: E402
from newsnet import Outlet, ago, rss  # noqa: E402
from pages import write_warc  # noqa: E402


def read_pages(warc: Path, copies: int) -> dict[str, list[tuple[str, bytes]]]:
    """host -> [(path, body)], each page `copies` times (the copies under ?copy=k)."""
    pages: dict[str, list[tuple[str, bytes]]] = {}
    for rec in ArchiveIterator(open(warc, "rb"), record_types=WarcRecordType.response):
        url = rec.headers.get("WARC-Target-URI")
        block = rec.reader.read()
        body = block.split(b"\r\n\r\n", 1)[1] if block.startswith(b"HTTP/") else block
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for k in range(copies):
            pages.setdefault(parts.netloc, []).append((path if k == 0 else f"{path}{'&' if '?' in path else '?'}copy={k}", body))
    return pages


def serve(pages: dict[str, list[tuple[str, bytes]]]) -> tuple[list[Outlet], int]:
    outlets = []
    for host, items in pages.items():
        o = Outlet()
        o.page("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        for path, body in items:
            o.page(path, body)
        o.page("/feed.xml", rss([(o.url(p), p, ago(1)) for p, _ in items]), "application/rss+xml")
        outlets.append(o)
    return outlets, sum(len(v) for v in pages.values())


def crawl(outlets: list[Outlet], tmp: Path, workers: int) -> float:
    sources = tmp / "sources.toml"
    sources.write_text("".join(f'[[outlet]]\nname = "o{i}"\nfeeds = ["{o.url("/feed.xml")}"]\nmax_age_days = 100000\n\n'
                               for i, o in enumerate(outlets)))
    settings = {"STORE_URI": f"sqlite:///{tmp / 'crawl.sqlite'}", "ARCHIVE_DIR": str(tmp / "archive"),
                "EXTRACT_WORKERS": workers, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "scrapy.cmdline", "crawl", "news", "-a", f"sources={sources}",
                    *[f"-s{k}={v}" for k, v in settings.items()]], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    warc = Path(args.data) / "syndication-dev.warc.gz"
    pages = read_pages(warc, args.copies)
    keep = tempfile.TemporaryDirectory()
    if args.copies > 1:  # reprocess reads the same pages as the crawl fetches
        warc = write_warc(Path(keep.name) / "copies.warc.gz", [(f"https://{host}{path}", body, {"Content-Type": "text/html"})
                                                               for host, items in pages.items() for path, body in items])
    outlets, n = serve(pages)
    times: dict[str, list[float]] = {"crawl": [], "reprocess": []}
    try:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                times["crawl"].append(crawl(outlets, Path(tmp), args.workers))
            with tempfile.TemporaryDirectory() as tmp:
                times["reprocess"].append(run_reprocess([str(warc)], Path(tmp) / "r.sqlite", args.workers))
    finally:
        for o in outlets:
            o.close()
        keep.cleanup()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{n} pages on {len(outlets)} local hosts, {args.workers} extraction processes, {args.rounds} alternated rounds")
    for k, v in times.items():
        print(f"  {k:10s} median {med[k]:6.2f} s ({n / med[k]:5.1f} pages/s)  runs {', '.join(f'{x:.2f}' for x in v)}")
    print(f"crawl rate / reprocess rate: {med['reprocess'] / med['crawl']:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
