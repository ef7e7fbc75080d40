"""Crawl workers of a fleet on real Redis, against the local news network: outlets leased per worker, article
URLs claimed before they are fetched, each host fetched by one worker at a time, results filed by one filer.
What they store is what a reprocess of all their archives stores."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import redis
from conftest import ROOT, Wirecrawl
from newsnet import Held, ago, rss, slow
from test_crawl import Crawl, _article, build_network, write_sources
from test_fleet import _results, filer as _filer, finish as _finish, stop_filer as _stop_filer
from stories_fixtures import story


def _worker(c: Crawl, fleet_url: str, name: str, **settings) -> subprocess.Popen:
    args = c.args(FLEET_REDIS=fleet_url, ARCHIVE_DIR=str(c.archive.parent / "archives" / name), **settings)
    return subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _reference(tmp_path):
    """A reprocess of every worker's archive, into SQLite."""
    offline = Wirecrawl(tmp_path / "offline")
    proc = offline.reprocess(tmp_path / "archives")
    assert "errors: 0" in proc.stdout, proc.stdout
    return _results(offline, tmp_path, "offline")


def _sent(out: str) -> int:
    return int(re.search(r"articles sent to the filer: (\d+)", out).group(1))


def test_three_crawl_workers_and_a_filer_store_what_a_reprocess_of_their_archives_stores(tmp_path, network,
                                                                                         fleet_url, store_uris):
    wire, paper, gazette = build_network(network)
    c = Crawl(tmp_path, store_uris("fleet"))
    write_sources(c.sources, wire, paper, gazette)
    filer = _filer(c.store, fleet_url)
    outs = _finish([_worker(c, fleet_url, f"w{i}", FLEET_OUTLETS=1) for i in range(3)])
    out = _stop_filer(filer, fleet_url)
    assert "filing finished: 7 pages" in out, out
    assert sum(_sent(o) for o in outs) == 7, outs         # each article fetched by one worker
    assert all(n == 1 for o in (wire, paper, gazette) for p, n in o.hits.items() if p != "/robots.txt"), \
        [o.hits for o in (wire, paper, gazette)]
    fleet = _results(c, tmp_path, "fleet")
    assert len(fleet[0]) == 7 and {r["relation"] for r in fleet[0]} == {"origin", "syndicated"}
    assert fleet == _reference(tmp_path)

    # the filer kept the sources' validators and the stored URLs: a second fleet crawl fetches no article
    filer = _filer(c.store, fleet_url)
    (again,) = _finish([_worker(c, fleet_url, "again")])
    _stop_filer(filer, fleet_url)
    assert _sent(again) == 0 and "2 sources not modified (304)" in again and "1 already stored" in again, again


def test_a_crawl_worker_killed_mid_crawl_leaves_its_outlets_to_the_next(tmp_path, network, fleet_url, store_uris):
    """Worker A is killed while it waits on an article (the server holds it); its outlet and URL claims
    expire (FLEET_CLAIM_SECONDS=2) and worker B, started after, crawls what A did not send."""
    wire, paper, gazette = build_network(network)
    held = Held(_article("Held story", story(950), ago(3)), "text/html; charset=utf-8")
    wire.route("/article/held-story", held)
    items = [(wire.url(f"/article/story-{n}"), f"Wire story {n}", ago(10 - n)) for n in range(3)]
    wire.page("/feed.xml", rss(items + [(wire.url("/article/held-story"), "Held", ago(3))]), "application/rss+xml")
    c = Crawl(tmp_path, store_uris("fleet"))
    write_sources(c.sources, wire, paper, gazette)
    filer = _filer(c.store, fleet_url)
    a = _worker(c, fleet_url, "a", FLEET_CLAIM_SECONDS=2)
    assert held.requested.wait(300), a.communicate()
    os.killpg(a.pid, signal.SIGKILL)
    a.communicate(timeout=60)
    held.release.set()
    r = redis.Redis.from_url(fleet_url)
    assert r.exists("wirecrawl:fleet:outlet:Wire")   # (its lease outlives it, until it expires)
    (out,) = _finish([_worker(c, fleet_url, "b", FLEET_CLAIM_SECONDS=2)])
    assert _sent(out) >= 1, out                         # the held story at least
    _stop_filer(filer, fleet_url)
    fleet = _results(c, tmp_path, "fleet")
    assert wire.url("/article/held-story") in {row["fetched_url"] for row in fleet[0]}
    assert len(fleet[0]) == 8
    # A page A had archived but not yet sent when it was killed is fetched again by B: the fleet files B's
    # fetch, and a reprocess keeps the first of two fetches of the same bytes (A's). Only its fetch time differs.
    twice = _archived_twice(tmp_path / "archives")
    reference = _reference(tmp_path)
    assert _without_fetch_time(fleet[0], twice) == _without_fetch_time(reference[0], twice)
    assert fleet[1] == reference[1]


def _archived_twice(folder) -> set[str]:
    """The URLs of which the workers' archives hold more than one response."""
    from collections import Counter

    from fastwarc.warc import ArchiveIterator, WarcRecordType
    seen: Counter = Counter()
    for path in folder.rglob("*.warc*"):
        with open(path, "rb") as f:
            seen.update(r.headers.get("WARC-Target-URI") for r in ArchiveIterator(f, record_types=WarcRecordType.response))
    return {url for url, n in seen.items() if n > 1}


def _without_fetch_time(rows: list[dict], urls: set[str]) -> list[dict]:
    return [{k: v for k, v in row.items() if not (k == "fetched_at" and row["fetched_url"] in urls)} for row in rows]


def test_workers_of_a_fleet_never_fetch_more_at_once_from_a_host_than_its_limit(tmp_path, network, fleet_url,
                                                                                 store_uris):
    """Six outlets on one host, three workers, one outlet each at a time: the host is fetched by one worker
    at a time, never more than CONCURRENT_REQUESTS_PER_DOMAIN (2) requests at once. The host answers only
    once all three workers are alive, so each holds an outlet of its own when fetching starts."""
    host = network()
    host.page("/robots.txt", "User-agent: *\n", "text/plain")
    sources = []
    for o in range(6):
        items = []
        for n in range(3):
            path = f"/news/2025/outlet-{o}-story-{n}"
            host.route(path, slow(0.2, _article(f"Story {o}-{n}", story(700 + 10 * o + n), ago(5))))
            items.append((host.url(path), f"Story {o}-{n}", ago(5)))
        host.page(f"/feed-{o}.xml", rss(items), "application/rss+xml")
        sources.append(f'[[outlet]]\nname = "Outlet {o}"\nfeeds = ["{host.url(f"/feed-{o}.xml")}"]\n')
    c = Crawl(tmp_path, store_uris("fleet"))
    c.sources.write_text("\n".join(sources))
    host.gate.clear()
    filer = _filer(c.store, fleet_url)
    workers = [_worker(c, fleet_url, f"w{i}", FLEET_OUTLETS=1, CONCURRENT_REQUESTS_PER_DOMAIN=2) for i in range(3)]
    r = redis.Redis.from_url(fleet_url)
    deadline = time.monotonic() + 300
    while r.zcard("wirecrawl:fleet:workers") < 3:
        assert all(w.poll() is None for w in workers) and time.monotonic() < deadline
        time.sleep(0.05)
    host.gate.set()
    outs = _finish(workers)
    _stop_filer(filer, fleet_url)
    assert sum(_sent(o) for o in outs) == 18 and sum(_sent(o) > 0 for o in outs) >= 2, outs
    assert host.max_active <= 2, host.max_active
    assert len(c.export()) == 18


def test_a_redis_restarted_empty_before_the_filer_filed_loses_no_article(tmp_path, network, store_uris):
    """Three crawl workers have sent every result, none filed yet, when Redis restarts empty: they send it
    all again, and the filer started after stores what a reprocess of their archives stores."""
    from services import ThrowawayRedis

    server = ThrowawayRedis()
    try:
        url = f"{server.url}/0"
        wire, paper, gazette = build_network(network)
        c = Crawl(tmp_path, store_uris("fleet"))
        write_sources(c.sources, wire, paper, gazette)
        workers = [_worker(c, url, f"w{i}", FLEET_OUTLETS=1) for i in range(3)]
        deadline = time.monotonic() + 300
        while redis.Redis.from_url(url).xlen("wirecrawl:fleet:results") < 7 + 2:   # 7 articles, 2 validators
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
            time.sleep(0.1)
        server.restart()
        filing = _filer(c.store, url)
        outs = _finish(workers)
        _stop_filer(filing, url)
        assert sum(_sent(o) for o in outs) == 7
        fleet = _results(c, tmp_path, "fleet")
        assert len(fleet[0]) == 7
        assert fleet == _reference(tmp_path)
    finally:
        server.stop()
