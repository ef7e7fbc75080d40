"""The crawl against a local news network: discovery from feeds, news sitemaps and section pages,
syndicated copies filed into stories, incremental second runs, faults, signals, and crawl = reprocess."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, Wirecrawl
from newsnet import Held, ago, conditional, flaky, gzip_bomb, news_sitemap, rss, slow
from pages import article_html, write_warc
from stories_fixtures import story, trimmed

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0.01, "AUTOTHROTTLE_MAX_DELAY": 1, "LOG_LEVEL": "WARNING",
        "DOWNLOAD_TIMEOUT": 3, "EXTRACT_WORKERS": 2}


def _article(title: str, paragraphs: list[str], published) -> str:
    head = f'<meta property="article:published_time" content="{published.isoformat()}">'
    return article_html(title=title, paragraphs=paragraphs, extra_head=head)


class Crawl(Wirecrawl):
    def __init__(self, tmp_path, store: str | None = None):
        super().__init__(tmp_path, store)
        self.archive = tmp_path / "archive"
        self.sources = tmp_path / "sources.toml"

    def args(self, **settings) -> list[str]:
        opts = {**FAST, "STORE_URI": self.store, "ARCHIVE_DIR": str(self.archive), **settings}
        return ["crawl", "news", "-a", f"sources={self.sources}", *[f"-s{k}={v}" for k, v in opts.items()]]

    def crawl(self, check: bool = True, **settings) -> subprocess.CompletedProcess:
        return self.run(*self.args(**settings), check=check)

    def start(self, **settings) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", *self.args(**settings)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build_network(make):
    """A wire with a feed, an outlet with a news sitemap, an outlet with a section page; copies of the
    wire's stories on both outlets."""
    wire, paper, gazette = make(), make(), make()
    stories = {n: story(900 + n) for n in range(3)}
    for o in (wire, paper, gazette):
        o.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    feed_items = []
    for n, paras in stories.items():
        wire.page(f"/article/story-{n}", _article(f"Wire story {n}", paras, ago(10 - n)))
        feed_items.append((wire.url(f"/article/story-{n}"), f"Wire story {n}", ago(10 - n)))
    wire.route("/feed.xml", conditional(rss(feed_items), '"v1"'))
    paper.page("/news/2025/copy-0", _article("Paper copy", trimmed(stories[0], 0.7), ago(8)))
    paper.page("/news/2025/copy-1", _article("Paper copy one", stories[1] + story(990, 1), ago(7)))
    paper.page("/news/2025/own-story", _article("Paper's own", story(991), ago(6)))
    paper.page("/news/2025/old-story", _article("Old", story(992), ago(24 * 30)))
    paper.page("/private/secret-story", _article("Private", story(993), ago(5)))
    paper.route("/sitemap.xml", conditional(news_sitemap(
        [(paper.url("/news/2025/copy-0"), ago(8)), (paper.url("/news/2025/copy-1"), ago(7)),
         (paper.url("/news/2025/own-story"), ago(6)), (paper.url("/news/2025/old-story"), ago(24 * 30)),
         (paper.url("/private/secret-story"), ago(5))]), '"s1"', "application/xml"))
    gazette.page("/local/", '<html><body><a href="/local/2025/copy-two-of-wire">A</a> '
                 '<a href="/tag/politics">Tag</a> <a href="http://example.invalid/x-y-z">away</a></body></html>')
    gazette.page("/local/2025/copy-two-of-wire", _article("Gazette copy", trimmed(stories[2], 0.8), ago(5)))
    return wire, paper, gazette


def write_sources(path, wire, paper, gazette, extra: str = ""):
    path.write_text(f'''
[[outlet]]
name = "Wire"
feeds = ["{wire.url('/feed.xml')}"]

[[outlet]]
name = "Paper"
sitemaps = ["{paper.url('/sitemap.xml')}"]

[[outlet]]
name = "Gazette"
sections = ["{gazette.url('/local/')}"]
{extra}''')


def test_a_crawl_files_copies_into_stories_and_a_second_run_fetches_nothing_again(tmp_path, network, store_uris):
    wire, paper, gazette = build_network(network)
    c = Crawl(tmp_path, store_uris())
    write_sources(c.sources, wire, paper, gazette)
    first = c.crawl()
    assert "crawl finished" in first.stdout, first.stdout + first.stderr
    rows = {r["fetched_url"]: r for r in c.export()}
    assert len(rows) == 7, sorted(rows)                       # 3 wire + 3 paper (not old, not private) + 1 gazette
    assert paper.hits.get("/private/secret-story") is None    # robots.txt obeyed
    assert paper.hits.get("/news/2025/old-story") is None     # too old by the sitemap's date: never fetched
    for n, copy in ((0, paper.url("/news/2025/copy-0")), (1, paper.url("/news/2025/copy-1")),
                    (2, gazette.url("/local/2025/copy-two-of-wire"))):
        origin = rows[wire.url(f"/article/story-{n}")]
        assert origin["relation"] == "origin" and rows[copy]["story_id"] == origin["story_id"]
        assert rows[copy]["relation"] == "syndicated"
    assert rows[paper.url("/news/2025/own-story")]["relation"] == "origin"

    hits_before = {o: dict(o.hits) for o in (wire, paper, gazette)}
    second = c.crawl()
    # the feed and the sitemap answer 304; the section page has no validators, is read again, and its
    # one article link is already stored
    assert "new 0" in second.stdout and "2 sources not modified (304)" in second.stdout, second.stdout
    assert "1 already stored" in second.stdout
    for o in (wire, paper, gazette):
        for path, n in o.hits.items():
            if "/article/" in path or "/news/2025/" in path or "/local/2025/" in path:
                assert n == hits_before[o][path], path          # no article page fetched twice
    (status, counts), *_ = [(s, json.loads(k)) for s, k in c.query("SELECT status, counts FROM runs ORDER BY id DESC")]
    assert status == "finished" and counts["not_modified"] == 2


def test_a_crawl_equals_a_reprocess_of_its_archive(tmp_path, network, store_uris):
    wire, paper, gazette = build_network(network)
    c = Crawl(tmp_path, store_uris())
    write_sources(c.sources, wire, paper, gazette)
    c.crawl()
    crawled = c.export()
    offline = Wirecrawl(tmp_path / "offline")
    proc = offline.reprocess(c.archive)
    assert "errors: 0" in proc.stdout
    # only the article pages count as pages; robots.txt, feeds, sitemaps and section pages are listed apart
    assert f"articles stored: {len(crawled)} (new {len(crawled)}, updated 0, unchanged 0)" in proc.stdout, proc.stdout
    assert "not articles: 0" in proc.stdout and "crawl_robots 3" in proc.stdout and "crawl_source 3" in proc.stdout
    assert offline.export() == crawled
    # one ingest loop: the two run records count the same pages, articles and removed lines alike
    (crawl_counts,) = [json.loads(r[0]) for r in c.query("SELECT counts FROM runs")]
    (offline_counts,) = [json.loads(r[0]) for r in offline.query("SELECT counts FROM runs")]
    assert crawl_counts.keys() == offline_counts.keys()
    same = ("pages", "articles", "not_articles", "removed_lines", "template_updates")
    assert {k: crawl_counts[k] for k in same} == {k: offline_counts[k] for k in same}
    assert crawl_counts["removed_lines"] and crawl_counts["pages"] == len(crawled)


def test_a_bad_outlet_list_fails_before_fetching_with_its_line(tmp_path, network):
    wire = network()
    c = Crawl(tmp_path)
    c.sources.write_text(f'[[outlet]]\nname = "Wire"\nfeeds = ["{wire.url("/feed.xml")}"]\n\n[[outlet]]\nname = "Bad"\n'
                         'feeds = ["ftp://example.com/feed"]\n')
    proc = c.crawl(check=False)
    assert proc.returncode == 2 and "sources.toml:7" in proc.stderr and "not an http(s) URL" in proc.stderr
    assert wire.hits == {}


def test_a_second_crawl_on_the_same_store_exits_at_once(tmp_path, network, store_uris):
    wire, paper, gazette = build_network(network)
    feed = Held(rss([]))
    wire.route("/feed.xml", feed)   # the first crawl is held on it (it holds the store) until the checks are made
    c = Crawl(tmp_path, store_uris())
    write_sources(c.sources, wire, paper, gazette)
    first = c.start(DOWNLOAD_TIMEOUT=600)
    try:
        assert feed.requested.wait(300), "the first crawl never asked for its feed"
        _a_second_run_is_refused(c, tmp_path)
    finally:
        feed.release.set()
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert not c.query("SELECT 1 FROM articles WHERE fetched_url = 'https://elsewhere.example/a'")
    warc = tmp_path / "saved.warc.gz"
    c.reprocess(warc)  # and once the crawl is over, it can
    assert c.query("SELECT 1 FROM articles WHERE fetched_url = 'https://elsewhere.example/a'")


def _a_second_run_is_refused(c, tmp_path):
    second = c.crawl(check=False)
    assert second.returncode == 2 and "another crawl is running" in second.stderr
    warc = write_warc(tmp_path / "saved.warc.gz", [("https://elsewhere.example/a", article_html().encode(), {"Content-Type": "text/html"})])
    offline = c.run("reprocess", str(warc), "--store", c.store, check=False)  # nor does a reprocess write meanwhile
    assert offline.returncode == 2 and "another crawl is running" in offline.stderr and "this reprocess exits" in offline.stderr


def test_the_shipped_outlet_list_is_valid():
    from crawler.outlets import load_outlets
    outlets = load_outlets(ROOT / "seeds" / "sources.toml")
    assert len(outlets) >= 6 and all(o.feeds or o.sitemaps or o.sections for o in outlets)


def test_the_readme_outlet_example_is_valid(tmp_path):
    import re

    from crawler.outlets import load_outlets
    example = re.search(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL).group(1)
    (tmp_path / "sources.toml").write_text(example)
    (outlet,) = load_outlets(tmp_path / "sources.toml")
    assert outlet.feeds and outlet.sitemaps and outlet.sections and outlet.max_age_days == 2


LOGIN = ('<html><head><title>Sign in</title></head><body><form action="/login" method="post">'
         '<input name="user"><input type="password" name="pw"><button>Sign in</button></form></body></html>')


def test_each_fault_stays_with_its_own_page_or_source(tmp_path, network, store_uris):
    from newsnet import news_sitemap as sitemap_of
    ok, blocked = network(), network()
    ok.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    good = _article("Good", story(1200), ago(2))
    times = []

    def rate_limited(req, state={"n": 0}):
        times.append(time.monotonic())
        state["n"] += 1
        if state["n"] == 1:
            return 429, {"Content-Type": "text/plain", "Retry-After": "2"}, b"slow down"
        return 200, {"Content-Type": "text/html"}, _article("Patient", story(1201), ago(2)).encode()

    ok.route("/article/slow", slow(6))
    ok.route("/article/flaky", flaky(_article("Flaky", story(1202), ago(2)), failures=2))
    ok.route("/article/rate-limited", rate_limited)
    ok.route("/article/bomb", gzip_bomb(40_000_000))
    ok.page("/article/login-redirect", "", status=302, headers={"Location": "/login"})
    ok.page("/login", LOGIN)
    ok.page("/article/report", b"%PDF-1.7\n" + b"0" * 5000)
    ok.page("/private/hidden", good)
    ok.page("/article/good", good)
    ok.page("/bad-feed.xml", "<rss><channel><item><link>oops", "application/rss+xml")
    ok.route("/feed.xml", conditional(rss([(ok.url(p), p, ago(1)) for p in (
        "/article/slow", "/article/flaky", "/article/rate-limited", "/article/bomb", "/article/login-redirect",
        "/article/report", "/private/hidden", "/article/good")]), '"f"'))
    ok.page("/sitemap-index.xml", '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f'<sitemap><loc>{ok.url("/sitemap-index.xml")}</loc></sitemap><sitemap><loc>{ok.url("/sitemap-1.xml")}</loc>'
            '</sitemap></sitemapindex>', "application/xml")
    ok.page("/sitemap-1.xml", sitemap_of([(ok.url("/article/from-sitemap"), ago(1))]), "application/xml")
    ok.page("/article/from-sitemap", _article("From the sitemap", story(1203), ago(1)))
    blocked.route("/robots.txt", lambda req: (503, {"Content-Type": "text/plain"}, b"down"))
    blocked.page("/feed.xml", rss([(blocked.url("/article/x"), "x", ago(1))]), "application/rss+xml")
    blocked.page("/article/x", good)

    c = Crawl(tmp_path, store_uris())
    c.sources.write_text(f'''
[[outlet]]
name = "Faulty"
feeds = ["{ok.url('/feed.xml')}", "{ok.url('/bad-feed.xml')}"]
sitemaps = ["{ok.url('/sitemap-index.xml')}"]

[[outlet]]
name = "Robots down"
feeds = ["{blocked.url('/feed.xml')}"]
''')
    proc = c.crawl(DOWNLOAD_TIMEOUT=2, DOWNLOAD_MAXSIZE=5_000_000, RETRY_TIMES=2)
    assert "crawl finished" in proc.stdout, proc.stdout + proc.stderr
    stored = {r["fetched_url"] for r in c.export()}
    assert stored == {ok.url(p) for p in ("/article/flaky", "/article/rate-limited", "/article/good", "/article/from-sitemap")}
    rejects = dict(c.query("SELECT fetched_url, reason FROM rejects"))
    assert rejects == {ok.url("/login"): "login_wall", ok.url("/article/report"): "not_html"}
    (counts,) = [json.loads(r[0]) for r in c.query("SELECT counts FROM runs")]
    assert counts["errors"] == {"timeout": 1, "too_large": 1, "malformed_feed": 1}, counts["errors"]
    assert counts["not_articles"] == {"login_wall": 1, "not_html": 1}
    assert counts["robots_disallowed"] == 2                          # the private page and the blocked feed
    assert c.query("SELECT url FROM fetch_state") == []              # the feed had a failed page: no ETag kept
    assert ok.hits.get("/private/hidden") is None and ok.hits["/sitemap-index.xml"] == 1
    assert ok.hits["/article/flaky"] == 3
    assert len(times) == 2 and times[1] - times[0] >= 1.9          # Retry-After: 2 was honoured
    assert blocked.hits == {"/robots.txt": 3}                      # robots.txt 503 (retried): nothing else fetched


def test_a_retry_after_holds_the_whole_host(tmp_path, network):
    """The first article request to reach the host answers 429 with Retry-After: 3. Until then the host gets
    no request but those its download slot had already sent (at most its 2 at a time); the other ten
    articles and the retry come after the hold. (With a download delay of 0, Scrapy's slot sends its whole
    queue at once, so nothing is left in it to hold: the test keeps a small delay, as every real crawl has.)"""
    o = network()
    o.page("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    hold = 3.0
    arrivals: list[tuple[float, str]] = []
    lock = threading.Lock()

    def article(i):
        def handler(req):
            with lock:
                arrivals.append((time.monotonic(), req.path))
                first = len(arrivals) == 1
            if first:
                return 429, {"Content-Type": "text/plain", "Retry-After": str(int(hold))}, b"slow down"
            return 200, {"Content-Type": "text/html"}, _article(f"Story {i}", story(1400 + i), ago(2)).encode()
        return handler

    paths = [f"/article/story-{i}" for i in range(11)]
    for i, p in enumerate(paths):
        o.route(p, article(i))
    o.page("/feed.xml", rss([(o.url(p), p, ago(1)) for p in paths]), "application/rss+xml")
    c = Crawl(tmp_path)
    c.sources.write_text(f'[[outlet]]\nname = "Limited"\nfeeds = ["{o.url("/feed.xml")}"]\n')
    proc = c.crawl(DOWNLOAD_TIMEOUT=30, DOWNLOAD_DELAY=0.1, AUTOTHROTTLE_ENABLED=False)
    assert "crawl finished" in proc.stdout, proc.stdout + proc.stderr
    assert {r["fetched_url"] for r in c.export()} == {o.url(p) for p in paths}
    limited_at, limited = arrivals[0]
    during = [p for t, p in arrivals[1:] if t < limited_at + hold]
    assert len(during) <= 2, during   # what the slot had sent before it saw the 429
    assert len(arrivals) == 12 and next(t for t, p in arrivals[1:] if p == limited) >= limited_at + hold


def _held_network(make, n: int = 40, free: int = 5):
    """One outlet whose first `free` article requests are answered at once and the others only once the
    test sets the returned event, so a crawl is caught mid-way for certain."""
    o = make()
    o.page("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    gate = threading.Event()
    paths = [f"/article/story-{i}" for i in range(n)]
    answered = iter(range(n * 10))
    lock = threading.Lock()

    def page(i):
        body = _article(f"Story {i}", story(1300 + i), ago(2)).encode()

        def handler(req):
            with lock:
                arrival = next(answered)
            if arrival >= free:
                gate.wait(600)
            return 200, {"Content-Type": "text/html"}, body
        return handler
    for i, p in enumerate(paths):
        o.route(p, page(i))
    o.route("/feed.xml", conditional(rss([(o.url(p), p, ago(1)) for p in paths]), '"v1"'))  # a stopped run must not keep its ETag
    return o, paths, gate


def _wait_for_articles(c, n: int, timeout: float = 300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not c.store.startswith("sqlite:") or c.store_path.exists():
            try:
                if c.query("SELECT COUNT(*) FROM articles")[0][0] >= n:
                    return
            except Exception:
                pass
        time.sleep(0.1)
    raise AssertionError("the crawl stored nothing in time")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_crawl_loses_nothing_and_the_next_run_fetches_only_what_it_missed(tmp_path, network, sig, store_uris):
    o, paths, gate = _held_network(network)
    c = Crawl(tmp_path, store_uris())
    c.sources.write_text(f'[[outlet]]\nname = "Slow"\nfeeds = ["{o.url("/feed.xml")}"]\n')
    proc = c.start(DOWNLOAD_TIMEOUT=600)
    try:
        _wait_for_articles(c, 3)
        proc.send_signal(sig)
    finally:
        gate.set()   # the pages in flight are answered (a SIGTERM'd crawl waits for them)
    out, err = proc.communicate(timeout=300)
    if c.store.startswith("sqlite:"):   # (PostgreSQL's files are its server's)
        assert c.query("PRAGMA integrity_check") == [("ok",)]
    stored_first = {r[0] for r in c.query("SELECT fetched_url FROM articles")}
    assert 3 <= len(stored_first) < len(paths)
    assert all(t for (t,) in c.query("SELECT text FROM articles"))            # no half-written row
    if sig == signal.SIGTERM:
        assert "crawl interrupted" in out, out + err
        assert c.query("SELECT status FROM runs") == [("interrupted",)]
        assert c.query("SELECT COUNT(*) FROM unfiled") == [(0,)]             # every stored article is filed
    hits_first = dict(o.hits)
    second = c.crawl()
    assert "crawl finished" in second.stdout
    first_status = "interrupted" if sig == signal.SIGTERM else "killed"   # (a SIGKILLed run cannot say it ended)
    assert c.query("SELECT status FROM runs ORDER BY id") == [(first_status,), ("finished",)]
    assert {r["fetched_url"] for r in c.export()} == {o.url(p) for p in paths}
    assert all(r["story_id"] for r in c.export())
    for p in paths:
        if o.url(p) in stored_first:
            assert o.hits[p] == hits_first[p], p                              # stored pages are not fetched again


def test_a_store_error_while_learning_templates_after_a_commit_is_counted_and_loses_no_page(tmp_path, caplog, store_uris):
    """The pages are committed before the template lines are learned: a store error there is counted as
    template_refresh_failed and said in the log, the pages stay, and the end of the run learns the lines."""
    from pipelines.ingest import Ingest
    from pipelines.model import Page, RawRef
    from pipelines.options import DedupOptions, ExtractOptions
    from pipelines.store import StoreError
    from stories_fixtures import article

    line = "Lakeview Gazette is an independent community newspaper founded in 1921."
    run = Ingest(store_uris(), "crawl", ExtractOptions(), DedupOptions(), 3, {})
    for i in range(4):
        url = f"https://gazette.example/news/{i}"
        run.save(Page(url, b"<html></html>", "text/html", "2025-03-10T00:00:00+00:00", RawRef("x")),
                 article(url, story(300 + i, 3) + [line], f"2025-03-0{1 + i}T10:00:00+00:00"), url)

    def broken(*args, **kwargs):
        raise StoreError("cannot write to store: disk I/O error")
    real = run.store.save_templates
    run.store.save_templates = broken
    run.commit()
    run.store.save_templates = real
    assert run.counts.errors == {"template_refresh_failed": 1}
    assert "could not learn template lines after a commit" in caplog.text and "disk I/O error" in caplog.text
    texts = [t for (t,) in run.store.db.execute("SELECT text FROM articles")]
    assert len(texts) == 4 and all(line in t for t in texts)          # committed, not yet cleaned
    counts = run.close("finished")
    assert counts.template_updates == 4 and counts.articles["new"] == 4
    from pipelines.store import open_store
    store = open_store(store_uris())
    assert not any(line in t for (t,) in store.db.execute("SELECT text FROM articles"))
    store.close()


def test_the_crawl_command_helps_a_new_user(tmp_path, network):
    """A wrong spider name is one line (no traceback); -h names the crawl's settings; by default a crawl prints
    its summary and warnings only, and warns once that CONTACT is unset, which the User-Agent then lacks."""
    c = Crawl(tmp_path)
    wrong = c.run("crawl", "newz", check=False)
    assert wrong.returncode == 2 and "no spider named 'newz'" in wrong.stderr and "Traceback" not in wrong.stderr
    helped = c.run("crawl", "news", "-h")
    for word in ("-a sources=PATH", "STORE_URI", "ARCHIVE_DIR", "CONTACT", "-L INFO"):
        assert word in helped.stdout, word

    o = network()
    agents = []
    o.page("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")

    def feed(req):
        agents.append(req.headers.get("User-Agent"))
        return 200, {"Content-Type": "application/rss+xml"}, rss([]).encode()
    o.route("/feed.xml", feed)
    c.sources.write_text(f'[[outlet]]\nname = "Quiet"\nfeeds = ["{o.url("/feed.xml")}"]\n')
    settings = {k: v for k, v in FAST.items() if k != "LOG_LEVEL"}
    opts = [f"-s{k}={v}" for k, v in {**settings, "STORE_URI": c.store, "ARCHIVE_DIR": str(c.archive)}.items()]
    plain = c.run("crawl", "news", "-a", f"sources={c.sources}", *opts)
    assert "crawl finished" in plain.stdout and " INFO: " not in plain.stderr, plain.stderr
    assert plain.stderr.count("CONTACT is not set") == 1 and agents == ["wirecrawl/0.1"]
    verbose = c.run("crawl", "news", "-a", f"sources={c.sources}", *opts, "-s", "CONTACT=desk@example.org", "-L", "INFO")
    assert " INFO: " in verbose.stderr and "CONTACT is not set" not in verbose.stderr
    assert agents[-1] == "wirecrawl/0.1 (+desk@example.org)"
