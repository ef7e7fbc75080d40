"""A store that is missing, named twice, damaged, read-only or on a full disk: one line that says what to do,
exit status 2, and nothing stored lost or half-written."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT, Wirecrawl
from pages import article_html
from stories_fixtures import story


def _pages(folder, n: int):
    folder.mkdir()
    for i in range(n):
        (folder / f"{i:03d}.html").write_text(article_html(title=f"Story {i} of the day", paragraphs=story(1000 + i, 8)))
    return folder


def _in_private_mount(tmp_path, mount: str, then: list[list[str]]) -> subprocess.CompletedProcess:
    """Run commands in a mount namespace of their own (gone when they end, nothing left mounted), after
    `mount` (shell text); as a user that is not root, in a user namespace where it maps to root."""
    if shutil.which("unshare") is None:
        pytest.fail("util-linux's unshare is needed for the full-disk and read-only tests")
    flags = ["--mount"] + (["--map-root-user"] if os.geteuid() != 0 else [])
    script = "set -e\n" + mount + "\nset +e" + "".join(f"\n{shlex.join(cmd)}; echo \"exit=$?\"" for cmd in then)
    return subprocess.run(["unshare", *flags, "sh", "-c", script], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def _scrapy(*args) -> list[str]:
    return [sys.executable, "-m", "scrapy.cmdline", *map(str, args)]



@pytest.fixture
def wirecrawl(sqlite_wirecrawl):
    """The faults of a store in a file (its disk, its path, its pages): SQLite's (test_postgres.py has PostgreSQL's)."""
    return sqlite_wirecrawl

def test_readers_of_a_missing_store_say_so_and_create_nothing(wirecrawl, tmp_path):
    for command in ("export", "dedup-report"):
        proc = wirecrawl.run(command, "--store", wirecrawl.store, "-o", str(tmp_path / "out.json"), check=False)
        assert proc.returncode == 2 and f"no store at {wirecrawl.store_path}" in proc.stderr, proc.stderr
        assert "--store" not in proc.stderr.split("no store at", 1)[1]    # a store named on purpose: no hint
    # the default store, from a folder inside the project that is not its root: the hint says where to run
    proc = subprocess.run(_scrapy("export", "-o", "-"), check=False, cwd=ROOT / "tests", capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 2 and "no store at" in proc.stderr and "run from the project folder" in proc.stderr
    assert not wirecrawl.store_path.exists() and not (ROOT / "tests" / "data").exists()


def test_the_store_named_through_a_symlink_has_the_same_lock_and_band_index(wirecrawl, tmp_path):
    from pipelines.store import open_store
    from pipelines.store.lock import StoreBusy

    page = tmp_path / "a.html"
    page.write_text(article_html())
    wirecrawl.reprocess(page)
    link = tmp_path / "elsewhere" / "link.sqlite"
    link.parent.mkdir()
    link.symlink_to(wirecrawl.store_path)
    store = open_store(wirecrawl.store)
    lock = store.writer_lock("reprocess")   # a run holds the store by its real name...
    try:
        proc = wirecrawl.run("reprocess", str(page), "--store", f"sqlite:///{link}", check=False)
        assert proc.returncode == 2 and "another reprocess is running" in proc.stderr   # ...and so by any name
        via_link = open_store(f"sqlite:///{link}")
        with pytest.raises(StoreBusy):
            via_link.writer_lock("crawl")
        assert via_link.sidecar("bands") == store.sidecar("bands") == wirecrawl.store_path.with_name("store.sqlite.bands")
        via_link.close()
    finally:
        lock.release()
        store.close()
    wirecrawl.run("reprocess", str(page), "--store", f"sqlite:///{link}", "--force")
    assert not (link.parent / "link.sqlite.bands").exists() and not (link.parent / "link.sqlite.lock").exists()


def test_a_damaged_store_is_named_with_what_to_do(wirecrawl, tmp_path):
    pages = _pages(tmp_path / "pages", 120)
    wirecrawl.reprocess(pages)
    db = sqlite3.connect(wirecrawl.store_path)   # where the articles table starts: every command reads it
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name='articles'").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(wirecrawl.store_path, "r+b") as f:   # its first page and the next three overwritten
        f.seek((root - 1) * page_size)
        f.write(os.urandom(4 * page_size))
    for args in (["export", "-o", str(tmp_path / "out.jsonl")], ["dedup-report", "-o", str(tmp_path / "r.html")],
                 ["reprocess", str(pages), "--force"]):
        proc = wirecrawl.run(*args, "--store", wirecrawl.store, check=False)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "is damaged" in proc.stderr and ".recover" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "r.html").exists()


def test_a_read_only_store_can_be_read_and_writers_say_it_is_read_only(wirecrawl, tmp_path):
    page = tmp_path / "a.html"
    page.write_text(article_html())
    folder = tmp_path / "mounted"
    folder.mkdir()
    wirecrawl.store_path = folder / "store.sqlite"
    wirecrawl.store = f"sqlite:///{wirecrawl.store_path}"
    wirecrawl.reprocess(page)
    expected = wirecrawl.export()
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "sources.toml").write_text('[[outlet]]\nname = "X"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n')
    proc = _in_private_mount(tmp_path, f"mount --bind {folder} {folder}\nmount -o remount,bind,ro {folder}", [
        _scrapy("export", "--store", wirecrawl.store, "-o", out / "a.jsonl"),
        _scrapy("dedup-report", "--store", wirecrawl.store, "-o", out / "r.json"),
        _scrapy("reprocess", page, "--store", wirecrawl.store, "--force"),
        _scrapy("crawl", "news", "-a", f"sources={tmp_path / 'sources.toml'}", "-s", f"STORE_URI={wirecrawl.store}",
                "-s", f"ARCHIVE_DIR={out / 'archive'}"),
    ])
    assert proc.stdout.count("exit=") == 4, proc.stdout + proc.stderr
    assert proc.stdout.split("exit=")[1:] == ["0\n", "0\n", "2\n", "2\n"], proc.stdout + proc.stderr
    assert [json.loads(line) for line in (out / "a.jsonl").read_text().splitlines()] == expected
    assert json.loads((out / "r.json").read_text())["totals"]["articles"] == 1
    assert "reprocess: the store" in proc.stderr and "crawl: the store" in proc.stderr
    assert proc.stderr.count("is read-only") == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_a_full_disk_fails_the_run_in_one_line_and_loses_nothing(wirecrawl, tmp_path):
    """A store on a 1 MB file system fills part-way through 300 pages: the run says so in one line with the
    space to free, exits 2, records itself as failed, leaves no temporary file, and what it committed
    before is whole; with room again the next run stores the rest."""
    pages = _pages(tmp_path / "pages", 300)
    disk = tmp_path / "disk"
    disk.mkdir()
    saved = tmp_path / "saved"
    store = f"sqlite:///{disk / 'store.sqlite'}"
    proc = _in_private_mount(tmp_path, f"mount -t tmpfs -o size=1m tmpfs {disk}", [
        _scrapy("reprocess", pages, "--store", store, "--workers", "2"),
        ["cp", "-a", f"{disk}/.", str(saved)],
    ])
    assert proc.stdout.split("exit=")[1] == "2\n", proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("[wirecrawl]")]
    assert len(errors) == 1 and errors[0].startswith(f"reprocess: the disk of store {disk / 'store.sqlite'} is full")
    assert "free at least" in errors[0] and "Traceback" not in proc.stderr
    leftovers = [p.name for p in saved.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    db = sqlite3.connect(saved / "store.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    stored = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert stored < 300 and all(t for (t,) in db.execute("SELECT text FROM articles"))
    assert db.execute("SELECT COUNT(*) FROM unfiled").fetchone()[0] == 0   # what was committed was filed with it
    db.close()
    again = Wirecrawl(tmp_path)
    again.store_path = saved / "store.sqlite"
    again.store = f"sqlite:///{again.store_path}"
    proc = again.reprocess(pages)
    assert f"new {300 - stored}, updated 0, unchanged {stored}" in proc.stdout


def test_a_run_killed_with_sigkill_is_marked_killed_by_the_next(wirecrawl, tmp_path):
    page = tmp_path / "a.html"
    page.write_text(article_html())
    wirecrawl.reprocess(page)
    with sqlite3.connect(wirecrawl.store_path) as db:   # as a run killed with -9 leaves its row
        db.execute("UPDATE runs SET status='running', finished_at=NULL")
    wirecrawl.reprocess(page)
    assert wirecrawl.query("SELECT status FROM runs ORDER BY id") == [("killed",), ("finished",)]


@pytest.mark.parametrize("full", ["store", "archive"])
def test_a_crawl_on_a_full_disk_stops_in_one_line_and_the_next_run_fetches_the_rest(tmp_path, full):
    """The store on a 1 MB file system (or the archive, on 200 KB), 300 articles to fetch:
    the crawl stops when the disk is full with one line and exit status 2, the store stays whole, and with
    room again the next crawl stores the pages the first one did not."""
    from newsnet import Outlet, ago, rss
    from test_crawl import FAST, _article

    o = Outlet()
    try:
        o.page("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        paths = [f"/article/story-{i}" for i in range(300)]
        for i, p in enumerate(paths):
            o.page(p, _article(f"Story {i} of the day", story(1500 + i, 8), ago(2)))
        o.page("/feed.xml", rss([(o.url(p), p, ago(1)) for p in paths]), "application/rss+xml")
        (tmp_path / "sources.toml").write_text(f'[[outlet]]\nname = "Big"\nfeeds = ["{o.url("/feed.xml")}"]\n')
        disk, saved = tmp_path / "disk", tmp_path / "saved"
        disk.mkdir()

        def crawl(folder, archive):
            settings = {**FAST, "STORE_URI": f"sqlite:///{folder / 'store.sqlite'}", "ARCHIVE_DIR": str(archive),
                        "CONTACT": "tests@example.org"}
            return _scrapy("crawl", "news", "-a", f"sources={tmp_path / 'sources.toml'}",
                           *[f"-s{k}={v}" for k, v in settings.items()])
        if full == "store":   # (the archive elsewhere: on the same small disk, either may fill it first)
            first = crawl(disk, tmp_path / "first-archive")
            mount = f"mount -t tmpfs -o size=1m tmpfs {disk}"
        else:
            first = crawl(disk, tmp_path / "small")
            (tmp_path / "small").mkdir()
            mount = f"mount -t tmpfs -o size=200k tmpfs {tmp_path / 'small'}"
        proc = _in_private_mount(tmp_path, mount, [first, ["cp", "-a", f"{disk}/.", str(saved)]])
        assert proc.stdout.split("exit=")[1] == "2\n", proc.stdout + proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("crawl: ")]
        assert len(errors) == 1 and "Traceback" not in proc.stderr and " ERROR: " not in proc.stderr, proc.stderr
        assert errors[0].startswith("crawl: the disk of store" if full == "store" else "crawl: cannot write the archive")
        assert "free" in errors[0]
        db = sqlite3.connect(saved / "store.sqlite")
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        db.close()
        assert stored < 300
        again = subprocess.run(crawl(saved, tmp_path / "archive"), check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and "crawl finished" in again.stdout, again.stdout + again.stderr
        db = sqlite3.connect(saved / "store.sqlite")
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 300
        assert db.execute("SELECT status FROM runs ORDER BY id").fetchall()[-1] == ("finished",)
        db.close()
    finally:
        o.close()
