"""A fleet on real Redis: reprocess workers share out the input files and send their results to one filer,
which alone writes the store (SQLite or PostgreSQL). What it stores is what one reprocess stores."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time

import pytest
import redis
from conftest import ROOT, Wirecrawl
from pages import write_warc
from stories_fixtures import labelled_pages

from pipelines.fleet import queue
from pipelines.fleet.filer import file_results
from pipelines.options import DedupOptions, ExtractOptions, RunOptions
from pipelines.progress import Progress

FETCHED = "2025-03-05T12:00:00Z"


def _inputs(tmp_path, n: int = 6):
    """The labelled pages in `n` WARC files, round-robin."""
    records, _ = labelled_pages()
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(n):
        write_warc(folder / f"part{i}.warc.gz", records[i::n], date=FETCHED)
    return folder, len(records)


def _results(w: Wirecrawl, tmp_path, name: str):
    """The store's export and dedup report (less when and where it was made)."""
    w.run("dedup-report", "--store", w.store, "-o", str(tmp_path / f"{name}.json"))
    report = json.loads((tmp_path / f"{name}.json").read_text())
    for key in ("generated_at", "store"):
        report.pop(key)
    return w.export(), report


def _reference(tmp_path, folder):
    one = Wirecrawl(tmp_path / "one")
    (tmp_path / "one").mkdir()
    one.reprocess(folder)
    return _results(one, tmp_path, "one")


def _scrapy(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _start_workers(folder, fleet_url: str, store: str, n: int, *more: str) -> list[subprocess.Popen]:
    return [_scrapy("reprocess", str(folder), "--fleet", fleet_url, "--store", store, "--workers", "1", *more)
            for _ in range(n)]


def finish(procs: list[subprocess.Popen]) -> list[str]:
    """Each process's stdout, once it has exited with status 0 (a worker exits once its results are filed)."""
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0 and "Traceback" not in err, out + err
        outs.append(out)
    return outs


def _workers(folder, fleet_url: str, store: str, n: int, *more: str) -> list[str]:
    return finish(_start_workers(folder, fleet_url, store, n, *more))


def filer(store: str, fleet_url: str) -> subprocess.Popen:
    return _scrapy("file", "--fleet", fleet_url, "--store", store)


def stop_filer(proc: subprocess.Popen, fleet_url: str) -> str:
    """Once the filer reads the stream (its group is there) and every result is filed (the stream is
    empty), SIGTERM: the filer commits and exits 0."""
    import signal

    r = redis.Redis.from_url(fleet_url)
    deadline = time.monotonic() + 300

    def reading() -> bool:
        try:
            return any(g["name"] == b"filers" for g in r.xinfo_groups("wirecrawl:fleet:results"))
        except redis.ResponseError:   # (no stream yet)
            return False
    while not reading() or r.xlen("wirecrawl:fleet:results"):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0 and "Traceback" not in err, out + err
    return out


def _pages(summary: str) -> int:
    return int(re.search(r"finished: (\d+) pages", summary).group(1))


def test_three_reprocess_workers_and_a_filer_store_what_one_reprocess_stores(tmp_path, fleet_url, store_uris):
    folder, total = _inputs(tmp_path)
    expected = _reference(tmp_path, folder)
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    workers = _start_workers(folder, fleet_url, fleet.store, 3)   # (they wait for the filer to file their results)
    filing = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store, "--until-idle", "1")
    outs = finish(workers)
    assert sum(_pages(out) for out in outs) == total   # each file read by one worker
    out, err = filing.communicate(timeout=600)
    assert filing.returncode == 0 and f"filing finished: {total} pages" in out, out + err
    assert _results(fleet, tmp_path, "fleet") == expected
    assert redis.Redis.from_url(fleet_url).xlen("wirecrawl:fleet:results") == 0   # filed, acknowledged, deleted


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs but what a dying process's kernel does."""


def test_a_filer_killed_between_its_commit_and_its_acknowledgement_loses_nothing(tmp_path, fleet_url, store_uris,
                                                                                   monkeypatch):
    folder, total = _inputs(tmp_path)
    expected = _reference(tmp_path, folder)
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    workers = _start_workers(folder, fleet_url, fleet.store, 2)
    r = redis.Redis.from_url(fleet_url)
    deadline = time.monotonic() + 300
    while r.xlen("wirecrawl:fleet:results") < total:   # all sent; the workers wait for them to be filed
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.1)

    def dies(self, ids):
        raise _Killed()
    monkeypatch.setattr(queue.Fleet, "acknowledge", dies)
    with pytest.raises(_Killed):   # the first batch committed, then the filer dies
        file_results(fleet_url, RunOptions(fleet.store, 1), ExtractOptions(), DedupOptions(), Progress(io.StringIO()),
                     until_idle=1, batch=10)
    monkeypatch.undo()
    assert fleet.query("SELECT COUNT(*) FROM articles")[0][0] == 10            # committed
    assert r.xlen("wirecrawl:fleet:results") == total                          # and still to acknowledge
    assert r.xpending("wirecrawl:fleet:results", "filers")["pending"] == 10

    again = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store, "--until-idle", "1")
    finish(workers)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    assert re.search(r"articles stored: \d+ \(new \d+, updated 0, unchanged 10\)", out), out   # read again, the same
    assert _results(fleet, tmp_path, "fleet") == expected


def test_a_second_filer_stands_by_and_takes_over_from_one_killed(tmp_path, fleet_url, store_uris):
    folder, total = _inputs(tmp_path)
    expected = _reference(tmp_path, folder)
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    first = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store)
    deadline = time.monotonic() + 300
    while not _running_filer(fleet):   # it holds the store
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.1)
    second = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store, "--until-idle", "1")
    said = threading.Event()
    lines = []

    def read():
        for line in second.stderr:
            lines.append(line)
            if "standing by" in line:
                said.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert said.wait(300), "".join(lines)
    assert "another filer is running on" in "".join(lines) and "takes over when it stops" in "".join(lines)
    first.kill()
    first.communicate(timeout=60)
    _workers(folder, fleet_url, fleet.store, 2)
    out = second.stdout.read()
    second.wait(timeout=600)
    reader.join(timeout=60)
    assert second.returncode == 0, out + "".join(lines)
    assert _results(fleet, tmp_path, "fleet") == expected


def _running_filer(w: Wirecrawl) -> bool:
    try:
        return bool(w.query("SELECT 1 FROM runs WHERE command = 'filer' AND status = 'running'"))
    except Exception:   # not made yet
        return False


def test_a_result_that_is_not_one_is_counted_and_the_rest_are_filed(tmp_path, fleet_url, store_uris):
    folder, total = _inputs(tmp_path, 2)
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    r = redis.Redis.from_url(fleet_url)
    r.xadd("wirecrawl:fleet:results", {"r": b"{not json"})
    r.xadd("wirecrawl:fleet:results", {"r": b'{"kind": "article", "fields": {"title": "no url"}}'})
    filing = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store, "--until-idle", "1")
    _workers(folder, fleet_url, fleet.store, 1)
    out, err = filing.communicate(timeout=600)
    assert filing.returncode == 0 and "Traceback" not in err, out + err
    assert "errors: 2 (bad_result 2)" in out, out
    assert fleet.query("SELECT COUNT(*) FROM articles")[0][0] == total
    assert r.xlen("wirecrawl:fleet:results") == 0


def test_a_fleet_whose_redis_is_not_there_is_one_line_and_exit_2(tmp_path):
    from services import _free_port

    folder, _ = _inputs(tmp_path, 1)
    url = f"redis://127.0.0.1:{_free_port()}/0"
    for args in (["reprocess", str(folder), "--fleet", url, "--store", f"sqlite:///{tmp_path / 's.sqlite'}"],
                 ["file", "--fleet", url, "--store", f"sqlite:///{tmp_path / 's.sqlite'}"]):
        proc = _scrapy(*args)
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 2 and "Traceback" not in err and f"Redis at {url}" in err, err


def test_the_files_of_a_worker_killed_mid_run_are_read_by_the_next_once_its_claims_expire(tmp_path, fleet_url,
                                                                                           store_uris):
    """Worker A is stuck on its first file (a page that holds its one extraction process) when it is killed with
    SIGKILL, holding claims on the files it took; worker B, started after, waits for those claims to expire
    (FLEET_CLAIM_SECONDS=2) and reads the files; the store ends as one reprocess leaves it."""
    import os
    import signal

    from pages import nested_tables_html

    folder, total = _inputs(tmp_path, 3)
    expected = _reference(tmp_path, folder)
    stuck = folder / "aa-stuck.html"   # (read first: files are taken in path order)
    stuck.write_text(nested_tables_html())
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    a = subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", "reprocess", str(folder), "--fleet", fleet_url,
                          "--store", fleet.store, "--workers", "1", "-s", "EXTRACT_TIMEOUT=600",
                          "-s", "FLEET_CLAIM_SECONDS=2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    r = redis.Redis.from_url(fleet_url)
    deadline = time.monotonic() + 300
    while not r.exists(f"wirecrawl:fleet:file:{stuck}"):   # A holds the stuck file
        assert a.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(a.pid, signal.SIGKILL)
    a.wait(timeout=60)
    assert r.exists(f"wirecrawl:fleet:file:{stuck}")   # (its claims outlive it, until they expire)
    stuck.unlink()
    filing = _scrapy("file", "--fleet", fleet_url, "--store", fleet.store, "--until-idle", "1")
    b = _scrapy("reprocess", str(folder), "--fleet", fleet_url, "--store", fleet.store, "--workers", "1",
                "-s", "FLEET_CLAIM_SECONDS=2")
    out, err = b.communicate(timeout=600)
    assert b.returncode == 0 and _pages(out) == total, out + err   # every file, those A held included
    out, err = filing.communicate(timeout=600)
    assert filing.returncode == 0, out + err
    assert _results(fleet, tmp_path, "fleet") == expected


def test_files_a_fleet_finished_are_not_read_again_unless_the_extractor_changed(tmp_path, fleet_url, store_uris):
    folder, total = _inputs(tmp_path, 2)
    fleet = Wirecrawl(tmp_path, store_uris("fleet"))
    filing = filer(fleet.store, fleet_url)
    (first,) = _workers(folder, fleet_url, fleet.store, 1)
    (again,) = _workers(folder, fleet_url, fleet.store, 1)
    assert _pages(first) == total and _pages(again) == 0, again   # finished by the fleet
    (changed,) = _workers(folder, fleet_url, fleet.store, 1, "-s", "EXTRACT_MIN_WORDS=9")
    assert _pages(changed) == total, changed   # a new extractor reads them all again
    (forced,) = _workers(folder, fleet_url, fleet.store, 1, "--force")
    assert _pages(forced) == total, forced
    stop_filer(filing, fleet_url)


def test_a_redis_restarted_empty_mid_run_loses_nothing(tmp_path, store_uris):
    """The workers have sent every result and wait for the filer when Redis restarts empty (its stream,
    claims and group gone): they notice, send again what was not filed, and exit once the filer, started
    after, has filed it; the store ends as one reprocess leaves it."""
    from services import ThrowawayRedis

    server = ThrowawayRedis()   # (one of its own, to restart)
    try:
        url = f"{server.url}/0"
        folder, total = _inputs(tmp_path)
        expected = _reference(tmp_path, folder)
        fleet = Wirecrawl(tmp_path, store_uris("fleet"))
        workers = _start_workers(folder, url, fleet.store, 2)
        deadline = time.monotonic() + 300
        while redis.Redis.from_url(url).xlen("wirecrawl:fleet:results") < total:
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
            time.sleep(0.1)
        server.restart()   # (the workers may send again before the filer starts, or after)
        filing = filer(fleet.store, url)
        errs = []
        for w in workers:
            out, err = w.communicate(timeout=600)
            assert w.returncode == 0 and "Traceback" not in err, out + err
            errs.append(err)
        assert all("sending again the" in e for e in errs), errs
        stop_filer(filing, url)
        assert _results(fleet, tmp_path, "fleet") == expected
    finally:
        server.stop()


def test_an_outlet_finished_before_redis_was_emptied_is_not_leased_again_on_what_is_left(tmp_path, fleet_url,
                                                                                         capfd):
    """Worker A crawled outlet Wire; Redis is emptied; worker B, which has not noticed yet, finds no finished
    mark for Wire: the lease checks the epoch B joined, so B does not take Wire, and A, at its next commit,
    says again that Wire is finished. A URL claimed after the loss is claimed on what Redis holds now."""
    from pipelines.fleet.worker import FleetWorker

    a, b = (FleetWorker(fleet_url, f"sqlite:///{tmp_path / 'none.sqlite'}", ExtractOptions()) for _ in "ab")
    assert a.lease("outlet", "Wire") and not b.lease("outlet", "Wire")
    a.finished("outlet", "Wire")
    assert b.done_since_start("outlet", "Wire")
    redis.Redis.from_url(fleet_url).flushdb()
    assert not b.done_since_start("outlet", "Wire")   # (the mark is gone: only the epoch says so)
    assert not b.lease("outlet", "Wire") and b.restarts == 1
    assert not b.lease("outlet", "Paper")             # (no new outlet for a claim time after the loss)
    a.commit()
    assert a.restarts == 1 and b.done_since_start("outlet", "Wire")
    assert b.claim_url("https://wire.example/a") and not a.claim_url("https://wire.example/a")
    assert a.restarts == 1 and b.restarts == 1        # (joined once each)
    for w in (a, b):
        w.close("interrupted")
    assert capfd.readouterr().err.count("lost what it held") == 2


def test_a_redis_that_loses_what_it_holds_at_every_claim_is_one_clear_error(tmp_path, fleet_url, monkeypatch):
    """A URL is never given up as another worker's because the claim could not be taken: after rejoining
    a few times in a row the worker stops with a reason (the crawl ends failed, with that line)."""
    from pipelines.fleet.worker import FleetWorker
    from pipelines.store import StoreError

    w = FleetWorker(fleet_url, f"sqlite:///{tmp_path / 'none.sqlite'}", ExtractOptions())
    r = redis.Redis.from_url(fleet_url)
    real = w.fleet.claim
    monkeypatch.setattr(w.fleet, "claim", lambda kind, name: r.flushdb() and real(kind, name))
    with pytest.raises(StoreError, match="keeps losing what it holds"):
        w.claim_url("https://wire.example/a")
    assert w.restarts == 3 and w.counts.fetched_elsewhere == 0
    monkeypatch.setattr(w.fleet, "claim", real)
    w.close("interrupted")


def test_a_filer_whose_postgresql_session_is_ended_stops_and_the_standby_takes_over(tmp_path, fleet_url,
                                                                                      postgres_server):
    """The server ends the filer's session (an administrator, a failover): its writer lock goes with it, so it
    can write nothing more; it says so and exits 2, and the filer standing by takes over."""
    import psycopg
    from services import PostgresDatabases

    folder, total = _inputs(tmp_path)
    expected = _reference(tmp_path, folder)
    databases = PostgresDatabases(postgres_server)
    try:
        fleet = Wirecrawl(tmp_path, databases.new())
        first = filer(fleet.store, fleet_url)
        deadline = time.monotonic() + 300
        while not _running_filer(fleet):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        second = filer(fleet.store, fleet_url)
        while "standing by" not in second.stderr.readline():
            assert second.poll() is None and time.monotonic() < deadline
        with psycopg.connect(fleet.store, autocommit=True) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity "
                                  "WHERE application_name LIKE %s", (f"wirecrawl filer pid {first.pid} %",)).fetchall()
        assert ended == [(True,)]
        out, err = first.communicate(timeout=600)
        assert first.returncode == 2 and "Traceback" not in err and "connection to PostgreSQL is gone" in err, err
        _workers(folder, fleet_url, fleet.store, 2)   # (filed by the second filer)
        stop_filer(second, fleet_url)
        assert _results(fleet, tmp_path, "fleet") == expected
    finally:
        databases.drop()
