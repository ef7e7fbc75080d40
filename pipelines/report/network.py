"""The syndication network: for each pair (origin outlet -> copying outlet), how many copies, how fast, how
similar, how much of the origin kept, how many uncredited; and each outlet's lag behind the wires. Pure
functions over the report's stories (an outlet is named by its outlet list name, else by its host)."""
from __future__ import annotations

import math
import statistics
from collections import defaultdict

from ..model import site_of

CSV_FIELDS = ("origin_outlet", "copying_outlet", "copies", "lag_median_s", "lag_p90_s", "similarity_median",
              "kept_median", "uncredited", "uncredited_share")


def outlet(host: str | None, names: dict[str, str]) -> str:
    """An outlet's name: its `sources.toml` name where the outlet list names its site, else its host."""
    return names.get(site_of(host or ""), host or "(no host)")


def build(stories: list[dict], names: dict[str, str]) -> dict:
    """`pairs`, one per (origin outlet, copying outlet), most copies first; `behind_wire`, per outlet, its
    copies of wire stories and their median lag behind the wire's origin. Lags are None when a time
    without a zone is involved (never guessed)."""
    pairs: dict[tuple[str, str], list[dict]] = defaultdict(list)
    behind: dict[str, list[float | None]] = defaultdict(list)
    for s in stories:
        origin = outlet(s["origin"]["host"], names)
        for m in s["members"]:
            if m["relation"] != "syndicated":
                continue
            copy = {"lag": m["lag_seconds"], "similarity": m["similarity"], "kept": m["kept_share"],
                    "uncredited": m["uncredited"]}
            pairs[(origin, outlet(m["host"], names))].append(copy)
            if s["origin"]["wire"]:
                behind[outlet(m["host"], names)].append(m["lag_seconds"])
    rows = [_pair(o, c, copies) for (o, c), copies in pairs.items()]
    rows.sort(key=lambda r: (-r["copies"], r["origin_outlet"], r["copying_outlet"]))
    lags = [{"outlet": name, "copies": len(v), "lag_median_s": _median([x for x in v if x is not None])}
            for name, v in behind.items()]
    lags.sort(key=lambda r: (-r["copies"], r["outlet"]))
    return {"pairs": rows, "behind_wire": lags}


def _pair(origin: str, copier: str, copies: list[dict]) -> dict:
    lags = sorted(c["lag"] for c in copies if c["lag"] is not None)
    flags = [c["uncredited"] for c in copies if c["uncredited"] is not None]
    return {
        "origin_outlet": origin, "copying_outlet": copier, "copies": len(copies),
        "lag_median_s": _median(lags), "lag_p90_s": lags[math.ceil(0.9 * len(lags)) - 1] if lags else None,
        "similarity_median": _median([c["similarity"] for c in copies if c["similarity"] is not None]),
        "kept_median": _median([c["kept"] for c in copies if c["kept"] is not None]),
        "uncredited": sum(flags), "uncredited_share": sum(flags) / len(flags) if flags else None,
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
