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
        stories=[_story(s, texts) for s in shown], summary=_summary(stories),
        script=SCRIPT, csp=_csp(SCRIPT), generated=_when(report["generated_at"]))
    return page, len(shown)


def _story(s: dict, texts: dict[str, str]) -> dict:
    origin_t = datetime.fromisoformat(s["_t"][0])
    origin_title = _norm(s["origin"]["title"])
    origin = Origin(texts.get(s["_fetched"][0]))
    members = []
    for m, fetched, t in zip(s["members"], s["_fetched"], s["_t"]):
        is_origin = fetched == s["_fetched"][0]
        members.append({**m, "lag": (datetime.fromisoformat(t) - origin_t).total_seconds(),
                        "retitled": not is_origin and _norm(m["title"]) != origin_title,
                        "changes": None if is_origin else origin.compare(texts.get(fetched))})
    return {**s, "members": members, "copies": s["size"] - 1, "outlets": len(s["hosts"])}


def _summary(stories: list[dict]) -> dict:
    """Shares, top outlets and the chart data, over every listed story (not only those shown)."""
    by_wire, republishers, republished, lags = Counter(), Counter(), Counter(), []
    for s in stories:
        wire = s["origin"]["wire_source"] or "no wire credit"
        t0 = datetime.fromisoformat(s["_t"][0])
        for m, t in zip(s["members"], s["_t"]):
            if m["relation"] == "syndicated":
                by_wire[wire] += 1
                republishers[m["host"]] += 1
                republished[s["origin"]["host"]] += 1
                lags.append((datetime.fromisoformat(t) - t0).total_seconds())
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
