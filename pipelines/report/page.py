"""The dedup report as one self-contained HTML page: summary, charts, and every syndicated story with what
each copy changed.

Safe by construction: the template engine autoescapes every scraped string (titles, URLs, hosts, text),
links are emitted only for http(s) URLs, and a Content-Security-Policy lets nothing run but the page's own
inline script, pinned by its hash; there is nothing to fetch, so the page works from disk and by mail."""
from __future__ import annotations

import base64
import hashlib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..export import atomic_file
from ..stories.fingerprint import words
from . import DEFAULT_MAX_STORIES, ReportError, charts
from .changes import Origin

HERE = Path(__file__).parent
SCRIPT = (HERE / "page.js").read_text(encoding="utf-8")
SIZE_BUCKETS = ((2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, None))
LAG_BUCKETS = ((0, 900, "< 15 min"), (900, 3600, "15-60 min"), (3600, 3 * 3600, "1-3 h"), (3 * 3600, 6 * 3600, "3-6 h"),
               (6 * 3600, 12 * 3600, "6-12 h"), (12 * 3600, 86400, "12-24 h"), (86400, 3 * 86400, "1-3 d"),
               (3 * 86400, None, "> 3 d"))
TOP = 12

_env = Environment(loader=FileSystemLoader(HERE), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["href"] = lambda url: url if _is_web(url) else None
_env.filters["when"] = lambda iso: _when(iso)  # defined below
_env.filters["lag"] = lambda seconds: _duration(seconds, "same time")
_env.filters["duration"] = lambda seconds: _duration(seconds, "0 min")
_env.filters["pct"] = lambda x: f"{100 * x:.0f} %"
_env.filters["plural"] = lambda n, one, many=None: f"{n} {one if n == 1 else many or one + 's'}"
_env.filters["noun"] = lambda n, one, many=None: one if n == 1 else many or one + "s"


def write(report: dict, tables, target: str, max_stories: int = DEFAULT_MAX_STORIES) -> int:
    """Render and write the page atomically; returns the number of stories shown."""
    if max_stories < 1:
        raise ReportError(f"--max-stories must be at least 1, got {max_stories}")
    html, shown = render(report, tables, max_stories)
    with atomic_file(target) as out:
        out.write(html)
    return shown


def render(report: dict, tables, max_stories: int = DEFAULT_MAX_STORIES) -> tuple[str, int]:
    stories = report["stories"]
    shown = stories[:max(0, max_stories)]
    texts = tables.texts([u for s in shown for u in s["_fetched"]])
    page = _env.get_template("page.html.j2").render(
        report=report, totals=report["totals"], filters=report["filters"], listed=len(stories),
        left_out=len(stories) - len(shown), max_stories=max_stories,
        stories=[_story(s, texts) for s in shown], summary=_summary(stories), credit=_credit(stories),
        matrix=_matrix(report["network"]["pairs"]), network=report["network"],
        script=SCRIPT, csp=_csp(SCRIPT), generated=_when(report["generated_at"]))
    return page, len(shown)


def _story(s: dict, texts: dict[str, str]) -> dict:
    origin_title = _norm(s["origin"]["title"])
    origin = Origin(texts.get(s["_fetched"][0]))
    urls = Counter(m["url"] for m in s["members"])
    members = []
    for m, fetched in zip(s["members"], s["_fetched"]):
        is_origin = fetched == s["_fetched"][0]
        members.append({**m, "lag": m["lag_seconds"], "shared_url": urls[m["url"]] > 1,
                        "retitled": not is_origin and _norm(m["title"]) != origin_title,
                        "changes": None if is_origin else origin.compare(texts.get(fetched))})
    return {**s, "members": members, "copies": s["size"] - 1, "outlets": len(s["hosts"])}


def _summary(stories: list[dict]) -> dict:
    """Shares, top outlets and the chart data, over every listed story (not only those shown)."""
    by_wire, republishers, republished, lags = Counter(), Counter(), Counter(), []
    for s in stories:
        wire = s["origin"]["wire_source"] or "no wire credit"
        for m in s["members"]:
            if m["relation"] == "syndicated":
                by_wire[wire] += 1
                republishers[m["host"]] += 1
                republished[s["origin"]["host"]] += 1
                if m["lag_seconds"] is not None:   # (a time without a zone: not charted)
                    lags.append(m["lag_seconds"])
    copies = sum(by_wire.values())
    out = {"wire_shares": [(w, n, n / copies) for w, n in by_wire.most_common()] if copies else [],
           "republishers": republishers.most_common(TOP), "republished": republished.most_common(TOP), "charts": []}
    if not stories:
        return out
    sizes = Counter(s["size"] for s in stories)
    size_counts = [sum(n for k, n in sizes.items() if lo <= k and (hi is None or k <= hi)) for lo, hi in SIZE_BUCKETS]
    out["charts"].append(("Copies per story", charts.bars(
        "sizes", [_bucket(lo - 1, hi and hi - 1) for lo, hi in SIZE_BUCKETS], size_counts, "copies besides the origin", "stories")))
    if lags:
        lag_counts = [sum(1 for x in lags if lo <= x and (hi is None or x < hi)) for lo, hi, _ in LAG_BUCKETS]
        out["charts"].append(("Time from origin to copy", charts.bars(
            "lags", [label for _, _, label in LAG_BUCKETS], lag_counts, "time after the origin", "syndicated copies")))
    if republishers:
        top = republishers.most_common(15)
        out["charts"].append(("Syndicated copies per outlet", charts.bars(
            "outlets", [h for h, _ in top], [n for _, n in top], "syndicated copies", "", horizontal=True)))
    if by_wire:
        out["charts"].append(("Syndicated copies per wire source", charts.bars(
            "wires", [w for w, _, _ in out["wire_shares"]], [n for _, n, _ in out["wire_shares"]], "", "syndicated copies")))
    return out


def _credit(stories: list[dict]) -> list[dict]:
    """Per outlet: its copies of wire stories, how many credit no wire, and those (the examples)."""
    by: dict[str, dict] = {}
    for s in stories:
        for m in s["members"]:
            if m["uncredited"] is None or m["relation"] != "syndicated":
                continue
            row = by.setdefault(m["host"], {"outlet": m["host"], "copies": 0, "uncredited": 0, "examples": []})
            row["copies"] += 1
            if m["uncredited"]:
                row["uncredited"] += 1
                row["examples"].append({"story_id": s["story_id"], "title": m["title"] or m["url"], "url": m["url"],
                                        "wire": ", ".join(s["origin"]["wire"])})
    rows = sorted(by.values(), key=lambda r: (-r["uncredited"], -r["copies"], r["outlet"]))
    for r in rows:
        r["share"] = r["uncredited"] / r["copies"]
    return rows


def _matrix(pairs: list[dict], top: int = TOP) -> dict:
    """The top origin outlets (rows) and copying outlets (columns) by copies, with each cell's pair and a
    shade from 0 to 1 (copies over the largest cell)."""
    by_origin, by_copier = Counter(), Counter()
    for p in pairs:
        by_origin[p["origin_outlet"]] += p["copies"]
        by_copier[p["copying_outlet"]] += p["copies"]
    rows = [o for o, _ in sorted(by_origin.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    cols = [c for c, _ in sorted(by_copier.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    cells = {(p["origin_outlet"], p["copying_outlet"]): p for p in pairs}
    most = max((p["copies"] for p in pairs), default=1)
    grid = [[(cells.get((r, c)), cells[(r, c)]["copies"] / most if (r, c) in cells else 0.0) for c in cols] for r in rows]
    return {"rows": rows, "cols": cols, "grid": grid}


def _bucket(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else str(lo) if lo == hi else f"{lo}-{hi}"


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _is_web(url: str | None) -> bool:
    """An http(s) URL, by its exact leading characters (what a browser reads as the scheme)."""
    head = (url or "")[:8].lower()
    rest = url[7:] if head.startswith("http://") else url[8:] if head.startswith("https://") else ""
    return bool(rest)


def _norm(title: str | None) -> tuple[str, ...]:
    return tuple(words(title or ""))


def _when(iso: str | None) -> str:
    if not iso:
        return "unknown"
    dt = datetime.fromisoformat(iso)
    if dt.tzinfo is None:  # the page gave no zone: shown as given (stories order it as if UTC)
        return dt.strftime("%Y-%m-%d %H:%M") + " (no time zone given)"
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float, zero: str) -> str:
    minutes = int(round(seconds / 60))
    if minutes <= 0:
        return zero
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins and not days)
    return " ".join(parts)
