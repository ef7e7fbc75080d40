"""The store over runs: idempotent reprocessing, re-extraction when the rules change, host templates, export."""
from __future__ import annotations

import csv
import json

import pytest
from conftest import SEED_PAGES, Wirecrawl
from pages import PARAGRAPHS, article_html, write_warc

from saving import Saver, save
from pipelines.store import open_store

STORIES = [
    ["Officials in Ohio said a chemical plant fire had been contained after burning for nearly two days and forcing hundreds to evacuate.",
     "Residents were allowed back into their homes on Thursday evening after air tests came back clean, the county said."],
    ["A federal judge blocked a new state law on Wednesday that would have required age checks for users of social media apps.",
     "The judge said the state was likely to lose its argument that the law did not burden the free speech of adults."],
    ["The city council voted to extend the downtown tram line by three miles, ending a decade of debate over the project.",
     "Construction is expected to begin next spring and finish in 2029, at a cost the council put at $410 million."],
    ["Scientists reported that a rare bird thought to be extinct for forty years had been photographed in a remote valley.",
     "The team spent six weeks setting camera traps before the first image of the bird appeared on a memory card."],
]
TEMPLATE_LINE = "Lakeview Gazette is an independent community newspaper founded in 1921."


def _snapshot(wirecrawl):
    return (wirecrawl.query("SELECT * FROM articles ORDER BY fetched_url"), wirecrawl.query("SELECT * FROM rejects ORDER BY fetched_url"))


def test_reprocessing_twice_changes_nothing(wirecrawl, tmp_path):
    warc = write_warc(tmp_path / "a.warc.gz", [(f"https://news.example/{i}", article_html(title=f"Story {i}", paragraphs=p).encode(),
                                                 {"Content-Type": "text/html"}) for i, p in enumerate(STORIES)])
    wirecrawl.reprocess(warc, SEED_PAGES)
    first = _snapshot(wirecrawl)
    second_run = wirecrawl.reprocess(warc, SEED_PAGES)
    assert "(new 0, updated 0, unchanged 6)" in second_run.stdout
    assert _snapshot(wirecrawl) == first
    forced = wirecrawl.reprocess(warc, SEED_PAGES, extra=["--force"])  # re-extract everything: same rows
    assert "(new 0, updated 0, unchanged 6)" in forced.stdout
    assert _snapshot(wirecrawl) == first
    assert [r[0] for r in wirecrawl.query("SELECT status FROM runs")] == ["finished"] * 3


def test_changed_extraction_rules_update_the_affected_rows(wirecrawl, tmp_path):
    short = article_html(title="Brief", paragraphs=["Police said the road would reopen by noon on Friday after repairs."])
    warc = write_warc(tmp_path / "a.warc", [("https://news.example/brief", short.encode(), {"Content-Type": "text/html"}),
                                            ("https://news.example/long", article_html().encode(), {"Content-Type": "text/html"})])
    wirecrawl.reprocess(warc)
    assert wirecrawl.query("SELECT fetched_url FROM articles ORDER BY 1") == [("https://news.example/brief",), ("https://news.example/long",)]
    proc = wirecrawl.reprocess(warc, settings={"EXTRACT_MIN_WORDS": 20})
    assert "(new 0, updated 0, unchanged 1)" in proc.stdout and "too_short 1" in proc.stdout
    assert wirecrawl.query("SELECT fetched_url, reason FROM rejects") == [("https://news.example/brief", "too_short")]
    versions = {v for (v,) in wirecrawl.query("SELECT extractor_version FROM articles UNION SELECT extractor_version FROM rejects")}
    assert len(versions) == 1  # every row names the extractor that produced it


def test_a_line_recurring_across_a_hosts_articles_is_learned_as_template_chrome(wirecrawl, tmp_path):
    def page(i, paragraphs):
        return (f"https://gazette.example/news/{i}", article_html(title=f"Story {i}", paragraphs=paragraphs + [TEMPLATE_LINE]).encode(),
                {"Content-Type": "text/html"})
    # Two articles first: not enough to call the line a template.
    wirecrawl.reprocess(write_warc(tmp_path / "one.warc", [page(0, STORIES[0]), page(1, STORIES[1])]))
    assert all(TEMPLATE_LINE in r["text"] for r in wirecrawl.export())
    # A revision of story 0 under another URL repeats the line but is the same story: still not enough.
    wirecrawl.reprocess(write_warc(tmp_path / "two.warc", [page("0-rev", STORIES[0] + ["The county lifted the order at 6 p.m."])]))
    assert all(TEMPLATE_LINE in r["text"] for r in wirecrawl.export())
    # A third distinct story in a later run: the line is chrome now, in every article of the host, old ones too.
    proc = wirecrawl.reprocess(write_warc(tmp_path / "three.warc", [page(2, STORIES[2])]))
    assert "re-cleaned with learned host template lines: 4" in proc.stdout
    rows = wirecrawl.export()
    assert len(rows) == 4 and not any(TEMPLATE_LINE in r["text"] for r in rows)
    assert all(r["text"].startswith(tuple(s[0] for s in STORIES)) for r in rows)
    # Another host's identical line is not affected.
    wirecrawl.reprocess(write_warc(tmp_path / "other.warc", [(
        "https://other.example/a", article_html(paragraphs=STORIES[3] + [TEMPLATE_LINE]).encode(), {"Content-Type": "text/html"})]))
    other = [r for r in wirecrawl.export() if r["host"] == "other.example"]
    assert TEMPLATE_LINE in other[0]["text"]


def _ledger_page(host: str, key: str, title: str, paragraphs: list[str], site: str = "") -> tuple[str, bytes, dict]:
    """A page whose only title is its <title>, with the site's name in it, declared only when `site` is given."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = f'<meta property="og:site_name" content="{site}">' if site else ""
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f'<body><div class="story"><p class="kicker">Local</p>{body}</div></body></html>')
    return f"https://{host}/news/{key}", html.encode(), {"Content-Type": "text/html"}


def test_a_title_part_all_of_a_hosts_stories_share_is_cut_as_its_site_name(wirecrawl, tmp_path):
    """The host name does not say the site is called "Harbour Ledger"; two stories whose titles end with it
    and a third that declares it do. It is cut from all of them, old ones too; a part of one headline
    stays, and so do words that go on the headline's sentence ("- report"), however many share them; the same
    rows whether the pages come in one run or in three; and when the host's stories stop sharing the name,
    the titles get it back."""
    site = " – Harbour Ledger Weekly Review"
    pages = [_ledger_page("tidewater.example", "0", "Plant fire contained after two days" + site, STORIES[0]),
             _ledger_page("tidewater.example", "1", "Judge blocks age checks – Courts" + site, STORIES[1]),
             _ledger_page("tidewater.example", "2", "Tram line to be extended" + site, STORIES[2], site[3:]),
             _ledger_page("other.example", "3", "Rare bird photographed" + site, STORIES[3])]
    pages += [_ledger_page("wirewatch.example", str(i), f"Story {i} - report", STORIES[i]) for i in range(3)]
    titles = lambda: {r["fetched_url"].split("/", 2)[2]: r["title"] for r in wirecrawl.export()}
    wirecrawl.reprocess(write_warc(tmp_path / "one.warc", pages[:2]))
    assert sorted(titles().values()) == ["Judge blocks age checks – Courts" + site, "Plant fire contained after two days" + site]
    wirecrawl.reprocess(write_warc(tmp_path / "two.warc", pages[2:]))
    assert titles() == {"tidewater.example/news/0": "Plant fire contained after two days",
                        "tidewater.example/news/1": "Judge blocks age checks – Courts",
                        "tidewater.example/news/2": "Tram line to be extended",
                        "other.example/news/3": "Rare bird photographed" + site,
                        **{f"wirewatch.example/news/{i}": f"Story {i} - report" for i in range(3)}}
    once = Wirecrawl(tmp_path / "once")
    (tmp_path / "once").mkdir()
    once.reprocess(write_warc(tmp_path / "all.warc", list(reversed(pages))))
    assert once.export() == wirecrawl.export()
    # The tram story's page, fetched again, declares no site name: two stories share the part now, not enough.
    wirecrawl.reprocess(write_warc(tmp_path / "three.warc", [
        _ledger_page("tidewater.example", "2", "Tram line to be extended, council says", STORIES[2])], date="2025-03-02T12:00:00Z"))
    assert titles()["tidewater.example/news/0"] == "Plant fire contained after two days" + site
    assert titles()["tidewater.example/news/1"] == "Judge blocks age checks – Courts" + site


def test_export_formats_keep_the_field_order(wirecrawl, tmp_path):
    wirecrawl.reprocess(SEED_PAGES)
    fields = ["url", "fetched_url", "canonical_url", "title", "authors", "published", "modified", "site_name", "host",
              "language", "description", "tags", "image", "image_caption", "image_credit", "wire_source", "credits", "standfirst", "summary", "text",
              "fetched_at", "story_id", "relation", "similarity", "uncredited"]
    for name in ("out.jsonl", "out.json", "out.csv"):
        wirecrawl.run("export", "--store", wirecrawl.store, "-o", str(tmp_path / name))
    jsonl = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    as_json = json.loads((tmp_path / "out.json").read_text())
    with open(tmp_path / "out.csv", newline="") as f:
        as_csv = list(csv.DictReader(f))
    assert len(jsonl) == len(as_json) == len(as_csv) == 2
    assert list(jsonl[0]) == list(as_json[0]) == list(as_csv[0]) == fields
    assert jsonl == as_json
    assert as_csv[0]["authors"] == "Blake Wolf" and as_csv[0]["text"] == jsonl[0]["text"]
    # the two seed layouts are one article under two addresses: one story, an origin and a duplicate
    assert jsonl[0]["story_id"] == jsonl[1]["story_id"] and jsonl[0]["story_id"].startswith("s")
    assert sorted(r["relation"] for r in jsonl) == ["duplicate", "origin"]
    assert all(r["similarity"] == 1.0 for r in jsonl)
    bad = wirecrawl.run("export", "--store", wirecrawl.store, "-o", str(tmp_path / "out.xml"), check=False)
    assert bad.returncode != 0 and "cannot tell the format" in bad.stderr


def test_every_row_points_at_its_raw_page(wirecrawl, tmp_path):
    warc = write_warc(tmp_path / "a.warc.gz", [("https://news.example/x", article_html(paragraphs=PARAGRAPHS).encode(), {"Content-Type": "text/html"})])
    wirecrawl.reprocess(warc)
    (path, offset), = wirecrawl.query("SELECT archive_path, archive_offset FROM articles")
    from fastwarc.warc import ArchiveIterator
    with open(path, "rb") as f:
        f.seek(offset)
        record = next(iter(ArchiveIterator(f)))
    assert record.headers["WARC-Target-URI"] == "https://news.example/x"


def test_an_export_that_cannot_be_written_says_so(wirecrawl, tmp_path):
    wirecrawl.reprocess(SEED_PAGES)
    (tmp_path / "a-file").write_text("")
    proc = wirecrawl.run("export", "--store", wirecrawl.store, "-o", str(tmp_path / "a-file" / "out.jsonl"), check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("export:") and "Traceback" not in proc.stderr


def test_a_transaction_inside_another_commits_or_rolls_back_with_it(store_uris):
    store = open_store(store_uris())
    count = lambda: store.db.execute("SELECT COUNT(*) FROM fetch_state").fetchone()[0]  # noqa: E731
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.set_fetch_state("https://a.example/feed", '"e1"', None)   # its own transaction, joined
            raise RuntimeError("the page's filing failed")
    assert count() == 0                      # the inner write went with the outer rollback
    with store.transaction():
        store.set_fetch_state("https://a.example/feed", '"e1"', None)
        store.set_fetch_state("https://b.example/feed", '"e2"', None)
    assert count() == 2
    with store.transaction():   # a transaction that fails inside one that goes on: only its writes undone
        store.set_fetch_state("https://c.example/feed", '"e3"', None)
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.set_fetch_state("https://d.example/feed", '"e4"', None)
                raise RuntimeError("one page's filing failed")
    assert count() == 3 and store.fetch_state("https://d.example/feed") == (None, None)
    store.close()


def test_an_interrupted_reprocess_keeps_whole_pages_and_the_next_run_finishes_the_rest(wirecrawl, tmp_path):
    """SIGTERM half-way: the run is recorded as interrupted, what it counts as stored is what the store holds
    (pages are committed in groups, each page whole), and the next run ends where one uninterrupted run ends.
    A page of deeply nested tables holds the one worker mid-run, so the signal always lands half-way; the
    pages before it are committed while it is stuck."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT
    from pages import nested_tables_html
    from stories_fixtures import story

    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(60):
        (folder / f"{i:03d}.html").write_text(article_html(title=f"Story {i}", paragraphs=story(1000 + i % 20, 6)))
    stuck = folder / "030-stuck.html"
    stuck.write_text(nested_tables_html())
    proc = subprocess.Popen([sys.executable, "-m", "scrapy.cmdline", "reprocess", str(folder), "--store", wirecrawl.store,
                             "--workers", "1", "-s", "EXTRACT_TIMEOUT=600"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stored = 0
    deadline = time.monotonic() + 300   # until the pages before the stuck one are committed (it holds the worker)
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            stored = wirecrawl.query("SELECT COUNT(*) FROM articles")[0][0]
        except Exception:   # not made yet, or locked: polled again
            continue
        if stored >= 30:   # the 30 pages before it
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert stored == 30, "the pages before the stuck one were not committed while it held the worker"
    assert proc.returncode == 130, out + err
    (status, counts), = wirecrawl.query("SELECT status, counts FROM runs")
    held = wirecrawl.query("SELECT COUNT(*) FROM articles")[0][0]
    assert status == "interrupted" and held == 30
    assert json.loads(counts)["articles"]["new"] == held
    assert wirecrawl.query("SELECT COUNT(*) FROM story_members")[0][0] + len(wirecrawl.query("SELECT * FROM unfiled")) >= held

    stuck.unlink()   # the rest of the run, without the page that would hold it up for a minute
    wirecrawl.reprocess(folder)
    once = Wirecrawl(tmp_path / "once")
    (tmp_path / "once").mkdir()
    once.reprocess(folder)
    assert wirecrawl.export() == once.export()


def test_a_run_learns_templates_as_it_goes_and_ends_where_learning_at_the_end_ends(store_uris):
    """HostTemplates.relearn(due_only=True), as a run calls it between commits: a host's line is learned once
    its first articles show it, later articles are stored without it, and the rows end up exactly as when
    everything is learned at the end; the host is refreshed again only when it has doubled."""
    from stories_fixtures import story

    from pipelines.model import Article

    def article(i: int) -> Article:
        url = f"https://gazette.example/news/{i}"
        return Article(url, url, None, f"Story {i}", [], f"2025-03-0{1 + i % 9}T10:00:00+00:00", None, None,
                       "gazette.example", "en", None, [], None, None, None, None, story(100 + i, 4) + [TEMPLATE_LINE],
                       "2025-03-10T00:00:00+00:00")

    as_it_goes, at_the_end = open_store(store_uris("a")), open_store(store_uris("b"))
    going, ending = Saver(as_it_goes), Saver(at_the_end)
    text_when_saved, rewritten, refreshed_at = {}, 0, []
    for i in range(8):
        going.save(article(i))
        ending.save(article(i))
        text_when_saved[i] = as_it_goes.db.execute("SELECT text FROM articles WHERE fetched_url=?",
                                                   (article(i).fetched_url,)).fetchone()[0]
        rewritten += going.relearn(due_only=True)
        if not as_it_goes.db.execute("SELECT 1 FROM dirty_hosts").fetchone():
            refreshed_at.append(i + 1)
    assert refreshed_at == [3, 6]          # after 3 articles, then once 3 more doubled the host
    assert rewritten == 3                  # only the three saved before the line was known were rewritten
    assert [TEMPLATE_LINE in text_when_saved[i] for i in range(8)] == [True] * 3 + [False] * 5
    assert going.relearn() == 0        # the end of the run: nothing left to rewrite
    assert ending.relearn() == 8
    query = "SELECT fetched_url, text, left_out FROM articles ORDER BY fetched_url"
    assert as_it_goes.db.execute(query).fetchall() == at_the_end.db.execute(query).fetchall()
    assert not any(TEMPLATE_LINE in text for _, text, _ in as_it_goes.db.execute(query))


def test_a_schema_1_store_is_migrated_and_keeps_what_it_learned_from(tmp_path):
    """Schema 1 kept a host_lines row per (host, line, article); opening such a store converts it in place
    to one row per article, and the host's template lines are learned from it as before."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    open_store(f"sqlite:///{path}").close()
    db = sqlite3.connect(path)
    db.executescript("""
        DROP TABLE article_lines;
        UPDATE store_meta SET value = '1' WHERE key = 'schema_version';
        CREATE TABLE host_lines (host TEXT NOT NULL, line_hash TEXT NOT NULL, fetched_url TEXT NOT NULL,
                                 lead TEXT NOT NULL, PRIMARY KEY (host, line_hash, fetched_url));
        CREATE INDEX host_lines_url ON host_lines (fetched_url);
        INSERT INTO host_lines VALUES
            ('g.example', 'aaaa', 'u1', 'lead1'), ('g.example', 'bbbb', 'u1', 'lead1'),
            ('g.example', 'aaaa', 'u2', 'lead2'), ('g.example', 'cccc', 'u2', 'lead2'),
            ('g.example', 'cccc', 'u3', 'lead2'),
            ('o.example', 'aaaa', 'u4', 'lead4');
        INSERT INTO dirty_hosts VALUES ('g.example'), ('o.example');
    """)
    db.close()
    store = open_store(f"sqlite:///{path}")
    assert store.db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    assert not store.db.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'host_lines%'").fetchall()
    rows = store.db.execute("SELECT fetched_url, host, lead, line_keys FROM article_lines ORDER BY fetched_url").fetchall()
    assert [(u, h, lead, sorted(k.split())) for u, h, lead, k in rows] == [
        ("u1", "g.example", "lead1", ["aaaa", "bbbb"]), ("u2", "g.example", "lead2", ["aaaa", "cccc"]),
        ("u3", "g.example", "lead2", ["cccc"]), ("u4", "o.example", "lead4", ["aaaa"])]
    Saver(store, 2).relearn()
    # aaaa is in two stories of g.example; cccc in two articles of one story; o.example's aaaa is its own
    assert store.db.execute("SELECT host, line_hash FROM host_templates").fetchall() == [("g.example", "aaaa")]
    store.close()


@pytest.mark.parametrize("lines, template", [
    (["One.", "Two."], set()),
    (["Ad", "One.", "Ad", "Two.", "Sign up"], {"Ad", "Sign up"}),
    (["Ad", "Sign up"], {"Ad", "Sign up"}),   # every line left out: the text is empty
    ([], set()),
    ([""], set()),
    (["", "One.", ""], set()),
    (["One,\nstill one.", "Ad"], {"Ad"}),     # a kept line holding a line break
    (["One.", "Ad\nagain"], {"Ad\nagain"}),
    (["", "Ad"], {"Ad"}),
])
def test_the_text_and_what_it_leaves_out_give_the_lines_back(lines, template):
    from pipelines.steps import templates
    from pipelines.store.sqlite_migrations import _left_out

    text, left_out = templates.body(lines, {templates.line_key(line) for line in template})
    assert text == "\n".join(line for line in lines if line not in template)
    assert templates.lines_of(text, left_out) == lines
    assert _left_out(lines, text) == left_out    # as the migration from schema 2 finds it from the two
    if text and all("\n" not in line for line in lines if line not in template):   # the text is kept once
        assert json.loads(left_out) == [[i, line] for i, line in enumerate(lines) if line in template]


def test_a_schema_2_store_keeps_each_text_once_and_a_rerun_finds_nothing_changed(tmp_path):
    """Schema 2 stored every article's lines beside its text. Opening such a store keeps only what each text
    leaves out, exactly as a schema-3 store saving the same articles does; the lines come back whole, and
    saving the same articles again changes nothing."""
    from stories_fixtures import story

    from pipelines.model import Article, RawRef
    from pipelines.steps.templates import lines_of

    def article(host: str, i: int, extra: list[str]) -> Article:
        url = f"https://{host}/news/{i}"
        return Article(url, url, None, f"Story {i}", [], "2025-03-01T10:00:00+00:00", None, None, host, "en", None,
                       [], None, None, None, None, [TEMPLATE_LINE] + story(100 + i, 3) + extra, "2025-03-10T00:00:00+00:00")
    articles = [article("gazette.example", i, [TEMPLATE_LINE, "Advertisement below"]) for i in range(4)]
    articles += [article("other.example", 9, ["A line that holds\na line break."]), article("third.example", 10, [])]
    stores = {}
    for name in ("old", "reference"):
        stores[name] = open_store(f"sqlite:///{tmp_path / name}.sqlite")
        saver = Saver(stores[name])
        for a in articles:
            saver.save(a)
        assert saver.relearn() == 4    # the gazette's line is learned: its texts leave it out
        stores[name].close()
    _as_schema_2(tmp_path / "old.sqlite", articles)

    old, reference = (open_store(f"sqlite:///{tmp_path / name}.sqlite") for name in ("old", "reference"))
    assert old.db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    query = "SELECT fetched_url, text, left_out FROM articles ORDER BY fetched_url"
    rows = old.db.execute(query).fetchall()
    assert rows == reference.db.execute(query).fetchall()
    by_url = {a.fetched_url: a for a in articles}
    assert all(lines_of(text, left_out) == by_url[url].lines for url, text, left_out in rows)
    assert sum(TEMPLATE_LINE not in text for _, text, _ in rows) == 4
    assert dict((u, len(left_out)) for u, _, left_out in rows)["https://third.example/news/10"] == 2   # "[]"
    assert [save(old, a, RawRef("x"), "s", "v") for a in articles] == ["unchanged"] * len(articles)
    old.close()
    reference.close()


def _as_schema_2(path, articles) -> None:
    """Turn a (closed) store into what schema 2 stored: the story tables keyed by URL (as_schema_3), and every
    article's lines as a JSON list, beside its text."""
    import sqlite3

    from old_schemas import as_schema_3

    as_schema_3(path, path.with_name("v3.sqlite"))
    path.with_name("v3.sqlite").replace(path)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE articles RENAME COLUMN left_out TO lines")
    db.executemany("UPDATE articles SET lines=? WHERE fetched_url=?",
                   [(json.dumps(a.lines, ensure_ascii=False), a.fetched_url) for a in articles])
    db.execute("UPDATE store_meta SET value='2' WHERE key='schema_version'")
    db.commit()
    db.close()


def test_a_schema_2_store_that_cannot_be_migrated_says_why_and_stays_as_it_was(tmp_path):
    import sqlite3

    from stories_fixtures import story

    from pipelines.model import Article, RawRef
    from pipelines.store import StoreError

    articles = [Article(f"https://g.example/{i}", f"https://g.example/{i}", None, "A story", [], "2025-03-01T10:00:00+00:00",
                        None, None, "g.example", "en", None, [], None, None, None, None, story(200 + i, 3),
                        "2025-03-10T00:00:00+00:00") for i in range(3)]
    path = tmp_path / "old.sqlite"
    store = open_store(f"sqlite:///{path}")
    for a in articles:
        save(store, a, RawRef("x"), "s", "v")
    store.close()
    _as_schema_2(path, articles)
    db = sqlite3.connect(path)
    db.execute("UPDATE articles SET lines='not json' WHERE fetched_url='https://g.example/2'")
    db.commit()
    before = db.execute("SELECT * FROM articles ORDER BY fetched_url").fetchall()
    db.close()

    with pytest.raises(StoreError, match=f"cannot open store {path}"):
        open_store(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("2",)
    assert db.execute("SELECT * FROM articles ORDER BY fetched_url").fetchall() == before   # nothing half-written
    db.execute("UPDATE articles SET lines=? WHERE fetched_url='https://g.example/2'", (json.dumps(articles[2].lines),))
    db.commit()
    db.close()
    store = open_store(f"sqlite:///{path}")   # mended, it migrates
    assert [save(store, a, RawRef("x"), "s", "v") for a in articles] == ["unchanged"] * 3
    store.close()


def test_a_store_of_a_newer_wirecrawl_is_refused_untouched_and_let_go(tmp_path, monkeypatch):
    """A schema this wirecrawl does not know is refused with both versions named; the store is not changed,
    and the connection opened to read it is closed (a failed open holds nothing)."""
    import sqlite3

    import pipelines.store.sqlite as sqlite_store
    from pipelines.store import StoreError

    path = tmp_path / "newer.sqlite"
    open_store(f"sqlite:///{path}").close()
    db = sqlite3.connect(path)
    db.execute("UPDATE store_meta SET value='99' WHERE key='schema_version'")
    db.execute("CREATE TABLE from_the_future (x)")
    db.commit()
    tables = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    db.close()
    opened = []

    class Tracked(sqlite3.Connection):
        def close(self):
            opened.remove(self)
            super().close()
    real = sqlite3.connect

    def connect(*args, **kwargs):
        opened.append(real(*args, factory=Tracked, **kwargs))
        return opened[-1]
    monkeypatch.setattr(sqlite_store.sqlite3, "connect", connect)
    with pytest.raises(StoreError, match="schema version 99, this wirecrawl expects 7"):
        open_store(f"sqlite:///{path}")
    assert opened == []
    monkeypatch.undo()
    assert sqlite3.connect(path).execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == tables


def test_a_schema_4_store_gains_the_standfirst_and_summary_columns_and_keeps_its_rows(sqlite_wirecrawl, tmp_path):
    wirecrawl = sqlite_wirecrawl
    """Schema 5 keeps the standfirst and summary apart from the text; a schema-4 store (without the two columns)
    is migrated in place, its rows exported as before with no standfirst and an empty summary."""
    import sqlite3

    wirecrawl.reprocess(SEED_PAGES)
    before = wirecrawl.export()
    path = wirecrawl.store.removeprefix("sqlite:///")
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE articles DROP COLUMN standfirst")
    db.execute("ALTER TABLE articles DROP COLUMN summary")
    db.execute("ALTER TABLE articles DROP COLUMN credits")
    db.execute("ALTER TABLE articles DROP COLUMN extracted_title")
    db.execute("UPDATE store_meta SET value='4' WHERE key='schema_version'")
    db.commit()
    db.close()
    after = wirecrawl.export()
    assert after == [dict(row, standfirst=None, summary=[], credits=[]) for row in before]
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    assert {"standfirst", "summary", "credits", "extracted_title"} <= {r[1] for r in db.execute("PRAGMA table_info(articles)")}
