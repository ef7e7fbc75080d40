"""`scrapy dedup-report -o report.html`: every story and member with its relation, lag and diff; the filters;
an empty store; hostile scraped strings; and the page in a real browser (headless Chromium)."""
from __future__ import annotations

import csv

import dataclasses
import re

import lxml.html
import pytest

from browser import console_errors, screenshot
from pages import write_warc
from saving import save
from pipelines.model import RawRef
from pipelines.report.changes import Origin
from pipelines.report.page import SCRIPT
from pipelines.store import open_store
from pipelines.stories import Stories
from pipelines.options import DedupOptions
from stories_fixtures import FETCHED, article, labelled_pages, story, straight_quoted


@pytest.fixture
def labelled(wirecrawl, tmp_path):
    records, labels = labelled_pages()
    wirecrawl.reprocess(write_warc(tmp_path / "a.warc.gz", records, date=FETCHED))
    return wirecrawl


def report(wirecrawl, tmp_path, *args, name="r.html"):
    proc = wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / name), *args)
    return lxml.html.fromstring((tmp_path / name).read_bytes()), proc


def text(el) -> str:
    return " ".join(el.text_content().split())


def members(doc, story_id) -> list[list[str]]:
    """The member rows of one story, each as its cells' text, in page order."""
    return [[text(c) for c in r] for r in doc.get_element_by_id(story_id).cssselect("tr.member")]


def test_page_lists_every_story_and_member_with_relation_lag_and_changes(labelled, tmp_path):
    doc, proc = report(labelled, tmp_path)
    stored = labelled.query("SELECT story_id, size FROM stories WHERE size >= 2 ORDER BY story_id")
    assert sorted((d.get("id"), int(text(d.cssselect(".copies")[0])) + 1) for d in doc.cssselect("details.story")) == stored
    assert text(doc.get_element_by_id("story-count")) == str(len(stored)) == "4"
    # one definition: the syndicated copies (12), apart from the revisions on the copying outlets (4)
    assert text(doc.get_element_by_id("total-articles")) == "26" and text(doc.get_element_by_id("total-copies")) == "12"
    assert text(doc.get_element_by_id("total-versions")) == "4"
    assert "4 stories written" in proc.stderr and "4 syndicated stories, 12 syndicated copies" in proc.stderr
    # summary: 4 wire stories, each with 3 syndicated copies (and a revision, which is not syndication)
    table = lambda name: [[text(c) for c in row] for row in doc.get_element_by_id(name).cssselect("tr")[1:]]  # noqa: E731
    assert table("wire-shares") == [["AP", "12", "100 %"]]
    assert sorted(table("republishers")) == [["www.courier.example", "4"], ["www.daily.example", "4"], ["www.herald.example", "4"]]
    assert table("republished") == [["apnews.example", "12"]]
    assert [text(f.cssselect("figcaption")[0]) for f in doc.cssselect("figure") if f.cssselect("svg")] == [
        "Copies per story", "Time from origin to copy", "Syndicated copies per outlet", "Syndicated copies per wire source"]

    for story_id, _ in stored:
        expected = labelled.query("SELECT a.host, m.relation FROM story_members m JOIN articles a ON a.id = m.article "
                                  "JOIN stories st ON st.id = m.story WHERE st.story_id = ?", story_id)
        assert sorted((row[0], row[4]) for row in members(doc, story_id)) == sorted(expected)

    (first_id,), = labelled.query("SELECT story_id FROM stories WHERE origin_url = 'https://apnews.example/article/0'")
    # cells: outlet, headline, published, lag, relation, similarity, changes. The fixture's copies keep 6 of
    # the 10 wire paragraphs, all 10 retyped plus a local one, 8, and (the revision) 9.
    rows = members(doc, first_id)
    assert [r[0] for r in rows] == ["apnews.example", "www.daily.example", "www.courier.example", "www.herald.example",
                                    "www.daily.example"]
    assert rows[0][1:5] == ["Wire story", "2025-03-01 08:00 UTC", "—", "origin"] and rows[0][6] == "—"
    assert [r[3] for r in rows[1:]] == ["+1 h", "+2 h 30 min", "+3 h", "+7 h"]
    assert [r[4] for r in rows[1:]] == ["syndicated", "syndicated", "syndicated", "revision"]
    assert [r[6].split(" word")[0] for r in rows[1:]] == [
        "4 trimmed, 0 added, 0", "0 trimmed, 1 added, 0", "2 trimmed, 0 added, 0", "1 trimmed, 0 added, 0"]
    assert [r[1] for r in rows[1:]] == ["Retitled changed headline", "Another headline changed headline",
                                        "Story changed headline", "Story changed headline"]
    # the diff is readable: the trimmed paragraphs are the origin's own, the added one is the copy's
    story0 = doc.get_element_by_id(first_id)
    assert [text(p) for p in story0.cssselect("p.added")] == [" ".join(story(600, 1)[0].split())]
    shown = [text(p).removesuffix(" …") for p in story0.cssselect("p.trimmed")]
    wire = [" ".join(p.split()) for p in story(500)]
    assert {i for gist in shown for i, p in enumerate(wire) if p.startswith(gist)} == {6, 7, 8, 9}
    assert len(shown) == 3 + 2 + 1 and [text(p) for p in story0.cssselect("p.trimmed-more")] == ["… and 1 more trimmed paragraph"]


def test_filters_empty_store_and_the_cap(labelled, tmp_path):
    doc, _ = report(labelled, tmp_path, "--host", "courier.example")
    assert len(doc.cssselect("details.story")) == 4  # the courier carries every wire story
    doc, _ = report(labelled, tmp_path, "--host", "www.briefs.example")
    assert not doc.cssselect("details.story") and "No syndicated story matches" in text(doc.get_element_by_id("empty"))
    assert text(doc.get_element_by_id("total-stories")) == "3"  # its three briefs, none syndicated
    doc, _ = report(labelled, tmp_path, "--since", "2025-03-03", "--until", "2025-03-04")
    assert [text(d.cssselect(".head")[0]) for d in doc.cssselect("details.story")] == ["Wire story"] * 2
    assert {d.cssselect("time")[0].get("datetime")[:10] for d in doc.cssselect("details.story")} == {"2025-03-03", "2025-03-04"}
    doc, _ = report(labelled, tmp_path, "--min-copies", "5")
    assert not doc.cssselect("details.story") and doc.get_element_by_id("empty") is not None
    doc, proc = report(labelled, tmp_path, "--max-stories", "1")
    assert len(doc.cssselect("details.story")) == 1 and text(doc.get_element_by_id("story-count")) == "4"
    assert "3 more stories are not shown" in text(doc.get_element_by_id("left-out")) and "3 more left out" in proc.stderr
    bad = labelled.run("dedup-report", "--store", labelled.store, "-o", str(tmp_path / "x.html"), "--max-stories", "0", check=False)
    assert bad.returncode == 2 and "--max-stories must be at least 1" in bad.stderr
    (tmp_path / "a-file").write_text("")
    unwritable = labelled.run("dedup-report", "--store", labelled.store, "-o", str(tmp_path / "a-file" / "r.html"), check=False)
    assert unwritable.returncode == 2 and "dedup-report:" in unwritable.stderr and "Traceback" not in unwritable.stderr

    empty = type(labelled)(tmp_path / "empty")
    empty.store_path.parent.mkdir()
    from pipelines.store import open_store
    open_store(empty.store).close()   # a store made (by a first run) that holds nothing yet
    doc, proc = report(empty, tmp_path, name="empty.html")
    assert proc.returncode == 0 and "the store holds no articles yet" in text(doc.get_element_by_id("empty"))
    assert text(doc.get_element_by_id("story-count")) == "0"


def test_changes_count_trimmed_added_and_edited_words():
    origin = story(1, 6)
    copy = straight_quoted(origin[:4]) + ["A local paragraph about the county fair opening on Friday."]
    words = copy[1].split()
    words[3] = "REPLACED"
    copy[1] = " ".join(words)
    c = Origin("\n".join(origin)).compare("\n".join(copy))
    assert (c.trimmed, c.added, c.edited, c.words_changed, c.unchanged) == (2, 1, 1, 1, 3)
    edited = [b for kind, b in c.blocks if kind == "edited"][0]
    assert ("ins", "REPLACED") in edited and ("del", origin[1].split()[3]) in edited
    assert [kind for kind, _ in c.blocks][-3:] == ["trimmed", "trimmed", "added"]
    assert not Origin("\n".join(origin)).compare("\n".join(straight_quoted(origin))).any


def test_times_without_a_zone_are_not_shown_as_utc():
    from pipelines.report.page import _when
    assert _when("2025-02-09T14:01:00") == "2025-02-09 14:01 (no time zone given)"
    assert _when("2025-02-09T14:01:00-08:00") == "2025-02-09 22:01 UTC" and _when(None) == "unknown"


HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '</style><script>alert(2)</script>',
           "</textarea></details><b onmouseover=alert(3)>"]


def hostile_store(uri):
    """A syndicated story whose scraped titles, URLs and text carry markup and a javascript: link."""
    store = open_store(uri)
    stories = Stories(store, DedupOptions())
    body = story(900)
    pages = [article("https://wire.example/a", body + [HOSTILE[2]], "2025-03-01T08:00:00+00:00", title=HOSTILE[0]),
             article("https://copy.example/b", body[:7] + [HOSTILE[3]], "2025-03-01T09:00:00+00:00", title=HOSTILE[1]),
             dataclasses.replace(article("https://other.example/c", body[:8], "2025-03-01T10:00:00+00:00",
                                         title="javascript link"), url="javascript:alert(4)")]
    for a in pages:
        save(store, a, RawRef("x"), "sha", "v")
        stories.file(a.fetched_url)
    stories.close()
    store.close()


def test_hostile_strings_are_text_and_nothing_runs(wirecrawl, tmp_path):
    hostile_store(wirecrawl.store)
    doc, _ = report(wirecrawl, tmp_path, name="hostile.html")
    scripts = doc.xpath("//script")
    assert len(scripts) == 1 and scripts[0].text == SCRIPT and not scripts[0].get("src")
    assert not [(el.tag, a) for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib if a.lower().startswith("on")]
    assert not doc.xpath("//img") and len(doc.xpath("/html/head/style")) == 1
    assert all(any(a.tag == "svg" for a in st.iterancestors()) for st in doc.xpath("//style")[1:])  # the charts' own
    assert not any("alert" in (st.text or "") for st in doc.xpath("//style"))
    hrefs = [a.get("href") for a in doc.xpath("//a[@href]")]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    (cell,) = [td for td in doc.xpath("//tr[@class='member']/td[2]") if "javascript link" in td.text_content()]
    assert not cell.xpath(".//a") and "javascript" not in " ".join(hrefs)  # its headline shows, unlinked
    page_text = doc.text_content()
    for s in HOSTILE:
        assert s in page_text
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", csp)


def test_page_in_headless_chromium(labelled, sqlite_wirecrawl, tmp_path, chromium):
    from selenium.webdriver.common.by import By

    report(labelled, tmp_path)
    chromium.get((tmp_path / "r.html").as_uri())
    assert console_errors(chromium) == []
    (stored,), = labelled.query("SELECT COUNT(*) FROM stories WHERE size >= 2")
    assert chromium.find_element(By.ID, "story-count").text == str(stored)
    assert len(chromium.find_elements(By.CSS_SELECTOR, "details.story")) == stored
    story = chromium.find_elements(By.CSS_SELECTOR, "details.story")[0]
    assert story.get_attribute("open") is None
    story.find_element(By.TAG_NAME, "summary").click()
    assert story.get_attribute("open") == "true"
    assert story.find_element(By.CSS_SELECTOR, "tr.member").is_displayed()
    box = chromium.find_element(By.ID, "filter")  # the page's own script runs under its CSP
    box.send_keys("herald")
    assert chromium.find_element(By.ID, "filter-count").text == f"{stored} of {stored} shown"
    box.clear()
    box.send_keys("no such outlet")
    assert chromium.find_element(By.ID, "filter-count").text == f"0 of {stored} shown"
    assert console_errors(chromium) == []
    assert screenshot(chromium, "report.png").stat().st_size > 10_000

    # the network's matrix is drawn, and its cells are the pairs of the network CSV
    labelled.run("dedup-report", "--store", labelled.store, "-o", str(tmp_path / "network.csv"))
    with open(tmp_path / "network.csv", newline="") as f:
        pairs = {(r["origin_outlet"], r["copying_outlet"]): int(r["copies"]) for r in csv.DictReader(f)}
    matrix = chromium.find_element(By.ID, "network-matrix")
    assert matrix.is_displayed() and matrix.size["width"] > 100
    cells = {(g.get_attribute("data-origin"), g.get_attribute("data-copier")): int(g.get_attribute("data-copies"))
             for g in matrix.find_elements(By.CSS_SELECTOR, "g.pair[data-copies]")}
    assert cells == pairs and sum(pairs.values()) == 12

    hostile = type(sqlite_wirecrawl)(tmp_path / "hostile")
    hostile.store_path.parent.mkdir()
    hostile_store(hostile.store)
    report(hostile, tmp_path, name="hostile.html")
    chromium.get((tmp_path / "hostile.html").as_uri())
    for summary in chromium.find_elements(By.CSS_SELECTOR, "details.story > summary"):
        summary.click()
    title = chromium.title
    assert console_errors(chromium) == []  # an injected script or handler would show as a CSP violation
    assert title.startswith("wirecrawl dedup report") and chromium.execute_script("return document.images.length") == 0
    screenshot(chromium, "report-hostile.png")
