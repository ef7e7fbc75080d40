"""CPU per page of extraction (`process_page`, one process, no store) for this checkout beside an earlier
commit, alternated in one run on the same pages: the syndication set's WARC (modern news pages) and every
third page of extraction-dev2 (many pages from 2008 to 2012 that declare no date, so htmldate runs).

    python bench/extract_cpu.py [--against REV] [--rounds 3] [../shared/bench]

REV (default HEAD) is checked out into a temporary git worktree; the compiled extensions are copied into it.
Each round measures both trees in their own process; the median of the rounds is printed, and the ratio.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MEASURE = r'''
import gzip, json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from fastwarc.warc import ArchiveIterator, WarcRecordType
from pipelines.article import process_page
from pipelines.model import Page, RawRef
from pipelines.options import ExtractOptions
import py3langid; py3langid.classify("warm up")
shared = Path(sys.argv[2])
sets = {"syndication-dev": [r.reader.read() for r in ArchiveIterator(open(shared / "syndication-dev.warc.gz", "rb"),
                                                                        record_types=WarcRecordType.response)],
        "extraction-dev2 (1 in 3)": [gzip.decompress(p.read_bytes()) for p in
                                     sorted((shared / "extraction-dev2" / "dataset" / "html").iterdir())[::3]]}
out = {}
for name, bodies in sets.items():
    started = time.process_time()
    for body in bodies:
        process_page(Page("https://x.example/a", body, None, "2026-12-01T00:00:00+00:00", RawRef("x")), ExtractOptions())
    out[name] = (time.process_time() - started) / len(bodies) * 1000
print(json.dumps(out))
'''


def measure(tree: Path, shared: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(tree), str(shared)], check=True, capture_output=True,
                         text=True, cwd=tree).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("shared", nargs="?", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument("--against", default="HEAD")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.against], cwd=ROOT, check=True)
        try:
            for so in (ROOT / "pipelines" / "stories").glob("*.so"):
                shutil.copy(so, old / "pipelines" / "stories" / so.name)
            rounds: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            for _ in range(args.rounds):
                rounds["old"].append(measure(old, Path(args.shared)))
                rounds["new"].append(measure(ROOT, Path(args.shared)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    print(f"CPU per page, median of {args.rounds} rounds: {args.against} beside this checkout")
    for name in rounds["old"][0]:
        a = statistics.median(r[name] for r in rounds["old"])
        b = statistics.median(r[name] for r in rounds["new"])
        print(f"  {name:26s} {a:6.1f} ms  {b:6.1f} ms  ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
