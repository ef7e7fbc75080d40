"""Shared test helpers: run the real `scrapy` commands in a subprocess, read the real store (SQLite, or
PostgreSQL for the tests that run on each backend: services.py)."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["browser", "services"]   # `chromium` (tests/browser.py); `backend`, `store_uris`, `postgres_server`

ROOT = Path(__file__).resolve().parent.parent
SEED_TEXT = ROOT / "seeds" / "000_10c23d053f17356e.txt"
SEED_PAGES = ROOT / "seeds" / "pages"


@pytest.fixture(params=["compiled", "numpy"])
def band_search(request, monkeypatch):
    """Runs a test with the band index's compiled searches (pipelines/stories/_bands.c), then with the numpy
    ones they stand in for, which serve when the extension is not built."""
    from pipelines.stories import bands, index
    if request.param == "compiled":
        assert bands.native is not None, "pipelines/stories/_bands.c was not compiled: `pip install -e .` with a C compiler"
    else:
        monkeypatch.setattr(bands, "native", None)
        monkeypatch.setattr(index, "native", None)
    return request.param


class Wirecrawl:
    """The command line, as a user runs it from the project root, against a store in tmp_path."""

    def __init__(self, tmp_path: Path, store: str | None = None):
        self.store = store or f"sqlite:///{tmp_path / 'store.sqlite'}"
        self.store_path = Path(self.store.removeprefix("sqlite:///"))   # (for SQLite only)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "scrapy.cmdline", *args], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"scrapy {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def reprocess(self, *paths, settings: dict | None = None, workers: int = 2, extra=()) -> subprocess.CompletedProcess:
        opts = [f"-s{k}={v}" for k, v in (settings or {}).items()]
        return self.run("reprocess", *map(str, paths), "--store", self.store, "--workers", str(workers), *opts, *extra)

    def export(self) -> list[dict]:
        out = self.run("export", "--store", self.store, "-o", "-").stdout
        return [json.loads(line) for line in out.splitlines()]

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of the store, read with the engine's own client (qmark SQL on either backend)."""
        if self.store.startswith("sqlite:"):
            with sqlite3.connect(self.store_path) as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.store) as db:
            return db.execute(sql.replace("%", "%%").replace("?", "%s"), params).fetchall()


@pytest.fixture
def wirecrawl(tmp_path, store_uris) -> Wirecrawl:
    """The command line on a store of each backend."""
    return Wirecrawl(tmp_path, store_uris())


@pytest.fixture
def sqlite_wirecrawl(tmp_path) -> Wirecrawl:
    """The command line on an SQLite store, for what only a store in a file has (its disk, its lock file)."""
    return Wirecrawl(tmp_path)


@pytest.fixture
def network():
    """`network()`: a new outlet of the local news network (tests/newsnet.py), closed after the test."""
    from newsnet import Outlet

    outlets = []

    def make():
        o = Outlet()
        outlets.append(o)
        return o
    yield make
    for o in outlets:
        o.close()
