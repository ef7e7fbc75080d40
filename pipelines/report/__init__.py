"""The dedup report: which stories were syndicated where, who published first and how fast it spread, which
copies of wire stories credit no wire, and who republishes whom (`network.py`); as JSON (one document), CSV
(one row per story member, or per pair of outlets) or a page to read (`page.py`).

One definition throughout: a *syndicated copy* is a member on another outlet than the origin's (relation
`syndicated`); a *syndicated story* has at least one. Revisions and duplicates are other versions."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path

from ..export import atomic_file, csv_cell, csv_safe
from ..stories.credit import uncredited, wires_of
from . import network
from .changes import Origin

FORMATS = (".json", ".csv", ".html")
DEFAULT_MAX_STORIES = 500  # the HTML page lists this many stories, largest first
CSV_FIELDS = ("story_id", "size", "origin_url", "first_published", "spread_seconds", "url", "fetched_url", "host",
              "title", "published", "wire_source", "credits", "relation", "similarity", "lag_seconds", "kept_share",
              "uncredited")
MEMBER_FIELDS = ("url", "fetched_url", "host", "title", "published", "relation", "similarity", "credits",
                 "lag_seconds", "kept_share", "uncredited")


class ReportError(Exception):
    pass


def report_format(target: str) -> str:
    suffix = Path(target).suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"cannot tell the format of {target!r}: use a name ending in {' or '.join(FORMATS)}")
    return suffix[1:]


def build(tables, store_uri: str, since: str | None = None, until: str | None = None, min_copies: int = 1,
          host: str | None = None, names: dict[str, str] | None = None) -> dict:
    """The report over stories whose first publication falls in [since, until] (ISO dates or times, UTC) and,
    with `host`, that have a member on that host or its subdomains; `stories` lists those with at least
    `min_copies` members besides the origin, largest first; `network` is built over them (`names`: outlet
    names by site, from the outlet list)."""
    if min_copies < 1:
        raise ReportError(f"--min-copies must be at least 1, got {min_copies}")
    lo, hi = _bound(since, False), _bound(until, True)
    host = host.strip().lower().rstrip(".") if host else None
    stories = []
    totals = {"articles": 0, "stories": 0, "syndicated_stories": 0, "copies": 0, "revisions": 0, "duplicates": 0}
    for story_id, rows in groupby(tables.report_rows(), key=lambda r: r[0]):
        story = _story(story_id, list(rows))
        if (lo and story["first_published"] < lo) or (hi and story["first_published"] > hi):
            continue
        if host and not any(h == host or h.endswith("." + host) for h in story["hosts"]):
            continue
        totals["articles"] += story["size"]
        totals["stories"] += 1
        relations = [m["relation"] for m in story["members"]]
        totals["syndicated_stories"] += "syndicated" in relations
        totals["copies"] += relations.count("syndicated")
        totals["revisions"] += relations.count("revision")
        totals["duplicates"] += relations.count("duplicate")
        if story["size"] - 1 >= min_copies:
            stories.append(story)
    stories.sort(key=lambda s: (-s["size"], s["first_published"], s["story_id"]))
    _kept_shares(stories, tables)
    return {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "store": store_uri,
            "params": tables.params() or {},
            "filters": {"since": since, "until": until, "min_copies": min_copies, "host": host},
            "totals": totals, "stories": stories, "network": network.build(stories, names or {})}


def _kept_shares(stories: list[dict], tables) -> None:
    """Each copy's share of its origin's paragraphs kept (whole or edited), as the page's diff counts them."""
    for start in range(0, len(stories), 200):   # (the texts of 200 stories read at a time)
        part = stories[start:start + 200]
        texts = tables.texts([u for s in part for u in s["_fetched"]])
        for s in part:
            origin = Origin(texts.get(s["_fetched"][0]))
            for i, m in enumerate(s["members"]):
                if i and m["relation"] != "duplicate":
                    c = origin.compare(texts.get(s["_fetched"][i]))
                    total = c.unchanged + c.edited + c.trimmed
                    m["kept_share"] = round((c.unchanged + c.edited) / total, 4) if total else None


def _story(story_id: str, rows: list[tuple]) -> dict:
    origin_url, reason = rows[0][1], rows[0][2]
    members = [{"url": r[4], "fetched_url": r[3], "host": r[5], "title": r[6], "published": r[8] or r[7],
                "t": r[7], "zoned": _zoned(r[8]), "wire_source": r[9], "relation": r[10], "similarity": r[11],
                "standfirst": r[12], "credits": json.loads(r[13])} for r in rows]
    members.sort(key=lambda m: (m["fetched_url"] != origin_url, m["t"], m["fetched_url"]))
    origin = members[0]
    t0 = datetime.fromisoformat(origin["t"])
    for m in members:
        m["uncredited"] = uncredited(origin["host"], origin["credits"], m["host"], m["credits"])
        m["lag_seconds"] = (int((datetime.fromisoformat(m["t"]) - t0).total_seconds())
                            if m["zoned"] and origin["zoned"] else None)   # (a time without a zone: unknown)
        m["kept_share"] = None
    times = [m.pop("t") for m in members]
    first, last = min(times), max(times)
    hosts = list(dict.fromkeys(m["host"] for m in members if m["host"]))
    return {
        "story_id": story_id, "size": len(members),
        "origin": {"url": origin["url"], "host": origin["host"], "title": origin["title"], "standfirst": origin["standfirst"],
                   "published": origin["published"], "wire_source": origin["wire_source"], "reason": reason,
                   "wire": sorted(wires_of(origin["host"], origin["credits"]))},
        "first_published": first, "last_published": last,
        "spread_seconds": int((datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()),
        "hosts": hosts,
        "members": [{k: m[k] for k in MEMBER_FIELDS} for m in members],
        "_fetched": [m["fetched_url"] for m in members], "_wire": [m["wire_source"] for m in members], "_t": times,
    }


def write(report: dict, target: str) -> int:
    """Write the report as JSON or CSV (the page has its own writer, `page.write`); returns the stories written."""
    fmt = report_format(target)
    if fmt not in ("json", "csv"):
        raise ReportError(f"{target!r}: write() writes .json or .csv; use page.write for .html")
    with atomic_file(target) as out:
        if fmt == "json":
            clean = {**report, "stories": [{k: v for k, v in s.items() if not k.startswith("_")} for s in report["stories"]]}
            json.dump(clean, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            _csv(report, out, Path(target).name.lower().endswith("network.csv"))
    return len(report["stories"])


def _csv(report: dict, out, pairs: bool) -> None:
    """One row per story member, or (`pairs`: a file named ...network.csv) per pair of outlets."""
    writer = csv.DictWriter(out, fieldnames=network.CSV_FIELDS if pairs else CSV_FIELDS)
    writer.writeheader()
    if pairs:
        for row in report["network"]["pairs"]:
            writer.writerow(csv_safe({k: csv_cell(k, v) for k, v in row.items()}))
        return
    for s in report["stories"]:
        for m, wire in zip(s["members"], s["_wire"]):
            writer.writerow(csv_safe({k: csv_cell(k, v) for k, v in {
                "story_id": s["story_id"], "size": s["size"], "origin_url": s["origin"]["url"],
                "first_published": s["first_published"], "spread_seconds": s["spread_seconds"],
                "wire_source": wire, **m}.items()}))


def _zoned(published: str | None) -> bool:
    """Is a member's time one with a zone (a published time that gives one, or the fetch time)?"""
    if published is None:
        return True
    try:
        return datetime.fromisoformat(published).tzinfo is not None
    except ValueError:
        return False


def _bound(value: str | None, end: bool) -> str | None:
    """A --since/--until value as a comparable UTC time; a bare date covers the whole day."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ReportError(f"not an ISO date or time: {value!r}") from exc
    if len(value) == 10 and end:
        dt = dt.replace(hour=23, minute=59, second=59)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat()
