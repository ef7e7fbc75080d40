"""Credit kept as evidence, uncredited wire copy, and the syndication network, on pages of our own: a wire's
origin and its copies crediting it in each of the five places, or only in the photo's credit, or nowhere,
and a partial rewrite. The export, the report's JSON and CSV and the page agree."""
from __future__ import annotations

import csv
import json
import statistics
from datetime import datetime

import lxml.html
from pages import write_warc
from stories_fixtures import labelled_pages, story

FETCHED = "2025-03-05T12:00:00Z"
WIRE = story(400)
WIRE = [WIRE[0].split(" — ", 1)[1], *WIRE[1:]]   # (without the fixture's own dateline)
OWN = story(401, 4)
OWN = [OWN[0].split(" — ", 1)[-1], *OWN[1:]]


def _page(title: str, paragraphs: list[str], published: str, head: str = "", before: str = "", after: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"><meta property="article:published_time" content="{published}">{head}</head>
<body><article><h1>{title}</h1>{before}{body}{after}</article></body></html>""".encode()


_JSONLD = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Copy", '
           '"author": {"@type": "Organization", "name": "The Associated Press"}}</script>')
_PHOTO = ('<figure><img src="/pier.jpg" alt=""><figcaption>The old pier at dawn. (AP Photo/Jae C. Hong)'
          '</figcaption></figure>')

# host -> (page, the credits extraction must find, uncredited)
COPIES = {
    "dateline.example": (dict(paragraphs=["LYNMOUTH BAY (AP) — " + WIRE[0], *WIRE[1:]]), [("AP", "dateline")], False),
    "byline.example": (dict(before="<p>By The Associated Press</p>"), [("AP", "byline")], False),
    "tagline.example": (dict(after="<p>Copyright 2025 The Associated Press. All rights reserved.</p>"),
                        [("AP", "tagline")], False),
    "structured.example": (dict(head=_JSONLD), [("AP", "structured")], False),
    "photo-only.example": (dict(before=_PHOTO), [("AP", "image")], True),
    "nothing.example": ({}, [], True),
    "rewrite.example": (dict(paragraphs=WIRE[:6] + OWN), [], True),
}


def _records() -> list[tuple[str, bytes, dict]]:
    html = {"Content-Type": "text/html; charset=utf-8"}
    records = [("https://apnews.example/article/pier", _page("Pier vote", WIRE, "2025-03-01T08:00:00+00:00",
                                                               before="<p>By The Associated Press</p>"), dict(html))]
    for n, (host, (page, _, _)) in enumerate(COPIES.items()):
        page = {"paragraphs": WIRE, **page}
        records.append((f"https://www.{host}/news/pier", _page(f"Pier vote {n}", page.pop("paragraphs"),
                                                               f"2025-03-01T{9 + n:02d}:00:00+00:00", **page), dict(html)))
    return records


def test_credits_in_each_place_and_uncredited_copies_agree_in_export_report_and_page(wirecrawl, tmp_path):
    wirecrawl.reprocess(write_warc(tmp_path / "c.warc.gz", _records(), date=FETCHED))
    rows = {r["host"]: r for r in wirecrawl.export()}
    origin = rows["apnews.example"]
    assert origin["credits"] == [{"agency": "AP", "where": "byline"}] and origin["uncredited"] is None
    for host, (_, credits, flag) in COPIES.items():
        row = rows[f"www.{host}"]
        assert row["story_id"] == origin["story_id"] and row["relation"] == "syndicated", host
        assert [(c["agency"], c["where"]) for c in row["credits"]] == credits, host
        assert row["uncredited"] is flag, host
        assert row["wire_source"] == ("AP" if credits and credits[0][1] != "image" else None), host

    with open(wirecrawl.run("export", "--store", wirecrawl.store, "-o", str(tmp_path / "a.csv")) and tmp_path / "a.csv",
              newline="") as f:
        in_csv = {r["host"]: r for r in csv.DictReader(f)}
    assert in_csv["www.dateline.example"]["credits"] == "AP (dateline)"
    assert {h: r["uncredited"] for h, r in in_csv.items()} == {
        h: {True: "true", False: "false", None: ""}[r["uncredited"]] for h, r in rows.items()}

    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.json"))
    (s,) = json.loads((tmp_path / "r.json").read_text())["stories"]
    assert s["origin"]["wire"] == ["AP"]
    assert {m["host"]: m["uncredited"] for m in s["members"]} == {h: r["uncredited"] for h, r in rows.items()}
    kept = {m["host"]: m["kept_share"] for m in s["members"]}
    assert kept["www.rewrite.example"] == 0.6 and kept["www.nothing.example"] == 1.0   # 6 of the 10 paragraphs
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.csv"))
    with open(tmp_path / "r.csv", newline="") as f:
        assert {r["host"]: r["uncredited"] for r in csv.DictReader(f)} == {h: r["uncredited"] for h, r in in_csv.items()}

    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.html"))
    doc = lxml.html.fromstring((tmp_path / "r.html").read_bytes())
    table = [[" ".join(c.text_content().split()) for c in tr][:4] for tr in doc.get_element_by_id("uncredited").cssselect("tr")[1:]]
    flagged = sorted(f"www.{h}" for h, (_, _, flag) in COPIES.items() if flag)
    assert sorted(r[0] for r in table if r[2] == "1") == flagged
    assert sorted(r[0] for r in table if r[2] == "0") == sorted(f"www.{h}" for h in COPIES if f"www.{h}" not in flagged)
    assert all(r[1] == "1" for r in table)
    examples = doc.get_element_by_id("uncredited").cssselect("a")
    assert {a.get("href") for a in examples} == {f"#{s['story_id']}"} and len(examples) == len(flagged)


def test_the_network_counts_lags_and_medians_of_each_pair(wirecrawl, tmp_path):
    """On the labelled stories (a wire, three outlets copying each of its four stories): the network's pairs
    against what the export says of the same articles."""
    records, _ = labelled_pages()
    wirecrawl.reprocess(write_warc(tmp_path / "l.warc.gz", records, date=FETCHED))
    rows = wirecrawl.export()
    by_story: dict[str, list[dict]] = {}
    for r in rows:
        by_story.setdefault(r["story_id"], []).append(r)
    expected: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for members in by_story.values():
        origin = next(m for m in members if m["relation"] == "origin")
        for m in members:
            if m["relation"] == "syndicated":
                lag = (datetime.fromisoformat(m["published"]) - datetime.fromisoformat(origin["published"])).total_seconds()
                expected.setdefault((origin["host"], m["host"]), []).append((lag, m["similarity"]))
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "network.csv"))
    with open(tmp_path / "network.csv", newline="") as f:
        pairs = {(r["origin_outlet"], r["copying_outlet"]): r for r in csv.DictReader(f)}
    assert set(pairs) == set(expected) and len(pairs) == 3
    for key, copies in expected.items():
        lags = sorted(lag for lag, _ in copies)
        row = pairs[key]
        assert int(row["copies"]) == len(copies) == 4
        assert float(row["lag_median_s"]) == statistics.median(lags)
        assert float(row["lag_p90_s"]) == lags[-1]   # (the 4th of 4: nearest rank)
        assert abs(float(row["similarity_median"]) - statistics.median(s for _, s in copies)) < 1e-9
        assert row["uncredited"] == "0"   # (the labelled copies carry the AP's credit)
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "r.json"))
    network = json.loads((tmp_path / "r.json").read_text())["network"]
    assert [(p["origin_outlet"], p["copying_outlet"], p["copies"]) for p in network["pairs"]] == sorted(
        ((o, c, 4) for o, c in expected), key=lambda t: (-t[2], t[0], t[1]))
    assert sorted(r["outlet"] for r in network["behind_wire"]) == sorted(c for _, c in expected)

    # outlets the outlet list names are named by it (by site: www. or not), the others by host
    sources = tmp_path / "sources.toml"
    sources.write_text('[[outlet]]\nname = "The Wire"\nfeeds = ["https://apnews.example/rss.xml"]\n\n'
                       '[[outlet]]\nname = "Daily"\nsitemaps = ["https://daily.example/sitemap.xml"]\n')
    wirecrawl.run("dedup-report", "--store", wirecrawl.store, "-o", str(tmp_path / "named-network.csv"),
                  "--sources", str(sources))
    with open(tmp_path / "named-network.csv", newline="") as f:
        named = sorted((r["origin_outlet"], r["copying_outlet"]) for r in csv.DictReader(f))
    assert named == sorted(("The Wire", {"www.daily.example": "Daily"}.get(c, c)) for _, c in expected)


def test_credit_rules_positive_and_negative():
    from pipelines.steps import wire
    from pipelines.stories.credit import uncredited

    assert wire.trailing_agency("JANE WIREWRITER Associated Press") == ("JANE WIREWRITER", "AP")
    assert wire.trailing_agency("Associated Press") is None and wire.trailing_agency("Jane Pressman") is None
    assert wire.tagline_agencies([], ["(Reporting by Jane Doe; Editing by John Roe)"]) == ["Reuters"]
    assert wire.tagline_agencies([], ["The Associated Press contributed to this report."]) == ["AP"]
    assert wire.tagline_agencies(["Photo: Reuters"], ["Reuters reported that prices rose on Monday."]) == []
    assert wire.tagline_agencies([], ["© 2025 Reuters. All rights reserved."]) == ["Reuters"]
    assert wire.tagline_agencies([], ["© 2025 Reuters. All rights reserved."], copyright_lines=False) == []  # chrome
    assert wire.datelines(["A first paragraph.", "LONDON (AP) — Wire copy further down."]) == ["AP"]
    assert wire.datelines(["LONDON — no agency here."]) == []
    assert wire.host_agency("apnews.com") == "AP" and wire.host_agency("www.reuters.com") == "Reuters"
    assert wire.host_agency("news.example") is None
    photo, tagline = [{"agency": "AP", "where": "image"}], [{"agency": "AP", "where": "tagline"}]
    assert uncredited("apnews.com", [], "www.paper.example", photo) is True     # a photo credit is not the text's
    assert uncredited("apnews.com", [], "www.paper.example", tagline) is False
    assert uncredited("apnews.com", [], "apnews.com", []) is None               # the origin's own site
    assert uncredited("paper.example", [], "other.example", []) is None         # no wire origin
    reuters = [{"agency": "Reuters", "where": "dateline"}]
    assert uncredited("paper.example", reuters, "other.example", [{"agency": "AP", "where": "byline"}]) is True


def test_the_report_on_the_sample_says_unknown_lag_counts_one_way_and_names_each_fetch(tmp_path):
    """The bundled sample: two layouts of one page, one with a time zone and one without, on one outlet."""
    from conftest import ROOT, Wirecrawl

    w = Wirecrawl(tmp_path)
    w.reprocess(ROOT / "seeds")
    proc = w.run("dedup-report", "--store", w.store, "-o", str(tmp_path / "r.html"))
    doc = lxml.html.fromstring((tmp_path / "r.html").read_bytes())
    cards = {c.get("id"): f"{c.text_content()} {' '.join((c.tail or '').split())}" for c in doc.cssselect(".card strong")}
    assert cards["total-syndicated"] == "0 syndicated stories" and cards["total-copies"] == "0 syndicated copies"
    assert cards["total-versions"] == "1 revision or duplicate" and cards["total-stories"] == "1 story"
    assert "0 syndicated stories, 0 syndicated copies" in proc.stderr
    rows = doc.cssselect("tr.member")
    assert [" ".join(r[3].text_content().split()) for r in rows] == ["—", "unknown"]   # never "+8 h"
    fetched = [" ".join(f.text_content().split()) for f in doc.cssselect(".fetched")]
    assert sorted(fetched) == sorted(f"fetched: {(ROOT / 'seeds' / 'pages' / n).as_uri()}"
                                     for n in ("oan-layout-a.html", "oan-layout-b.html"))
