"""Shared helpers for the benchmarks: run the real commands, read their export."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def run_reprocess(paths: list[str], store: Path, workers: int, extra: list[str] = ()) -> float:
    """Run `scrapy reprocess` as a user would; returns wall seconds."""
    started = time.perf_counter()
    subprocess.run(SCRAPY + ["reprocess", *paths, "--store", f"sqlite:///{store}", "--workers", str(workers), *extra],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return time.perf_counter() - started


def export_rows(store: Path) -> list[dict]:
    out = subprocess.run(SCRAPY + ["export", "--store", f"sqlite:///{store}", "-o", "-"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]
