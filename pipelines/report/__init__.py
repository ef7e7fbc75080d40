"""The dedup report: which stories were syndicated where, who published first and how fast it spread,
as JSON (one document), CSV (one row per story member) or a page to read (`page.py`)."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path

from ..export import atomic_file, csv_safe

FORMATS = (".json", ".csv", ".html")
DEFAULT_MAX_STORIES = 500  # the HTML page lists this many stories, largest first
CSV_FIELDS = ("story_id", "size", "origin_url", "first_published", "spread_seconds", "url", "fetched_url", "host",
              "title", "published", "wire_source", "relation", "similarity")


class ReportError(Exception):
    pass


def report_format(target: str) -> str:
    suffix = Path(target).suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"cannot tell the format of {target!r}: use a name ending in {' or '.join(FORMATS)}")
    return suffix[1:]


def build(tables, store_uri: str, since: str | None = None, until: str | None = None, min_copies: int = 1,
          host: str | None = None) -> dict:
    """The report over stories whose first publication falls in [since, until] (ISO dates or times, UTC) and,
    with `host`, that have a member on that host or its subdomains; `stories` lists those with at least
    `min_copies` copies besides the origin, largest first."""
    if min_copies < 1:
        raise ReportError(f"--min-copies must be at least 1, got {min_copies}")
    lo, hi = _bound(since, False), _bound(until, True)
    host = host.strip().lower().rstrip(".") if host else None
    stories, totals = [], {"articles": 0, "stories": 0, "syndicated_stories": 0, "copies": 0}
    for story_id, rows in groupby(tables.report_rows(), key=lambda r: r[0]):
        story = _story(story_id, list(rows))
        if (lo and story["first_published"] < lo) or (hi and story["first_published"] > hi):
            continue
        if host and not any(h == host or h.endswith("." + host) for h in story["hosts"]):
            continue
        totals["articles"] += story["size"]
        totals["stories"] += 1
        if story["size"] > 1:
            totals["syndicated_stories"] += 1
            totals["copies"] += story["size"] - 1
        if story["size"] - 1 >= min_copies:
            stories.append(story)
    stories.sort(key=lambda s: (-s["size"], s["first_published"], s["story_id"]))
    return {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "store": store_uri,
            "params": tables.params() or {},
            "filters": {"since": since, "until": until, "min_copies": min_copies, "host": host},
            "totals": totals, "stories": stories}


def _story(story_id: str, rows: list[tuple]) -> dict:
    origin_url, reason = rows[0][1], rows[0][2]
    members = [{"url": r[4], "fetched_url": r[3], "host": r[5], "title": r[6], "published": r[8] or r[7],
                "t": r[7], "wire_source": r[9], "relation": r[10], "similarity": r[11], "standfirst": r[12]} for r in rows]
    members.sort(key=lambda m: (m["fetched_url"] != origin_url, m["t"], m["fetched_url"]))
    origin = members[0]
    times = [m.pop("t") for m in members]
    first, last = min(times), max(times)
    hosts = list(dict.fromkeys(m["host"] for m in members if m["host"]))
    return {
        "story_id": story_id, "size": len(members),
        "origin": {"url": origin["url"], "host": origin["host"], "title": origin["title"], "standfirst": origin["standfirst"],
                   "published": origin["published"], "wire_source": origin["wire_source"], "reason": reason},
        "first_published": first, "last_published": last,
        "spread_seconds": int((datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()),
        "hosts": hosts,
        "members": [{k: m[k] for k in ("url", "host", "title", "published", "relation", "similarity")} for m in members],
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
            writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for s in report["stories"]:
                for m, fetched, wire in zip(s["members"], s["_fetched"], s["_wire"]):
                    writer.writerow(csv_safe({
                        "story_id": s["story_id"], "size": s["size"], "origin_url": s["origin"]["url"],
                        "first_published": s["first_published"], "spread_seconds": s["spread_seconds"],
                        "fetched_url": fetched, "wire_source": wire, **m}))
    return len(report["stories"])


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
