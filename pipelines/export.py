"""Write stored articles as JSON Lines, JSON or CSV (chosen by the file's extension)."""
from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, TextIO

from .model import EXPORT_FIELDS

FORMATS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv"}


class ExportError(Exception):
    pass


def export_format(target: str) -> str:
    if target == "-":
        return "jsonl"
    fmt = FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise ExportError(f"cannot tell the format of {target!r}: use a name ending in {', '.join(FORMATS)} or - for stdout")
    return fmt


def write(items: Iterable[dict], target: str) -> int:
    """Write `items` to `target` (a path or '-'); returns how many were written. A file is written
    whole or not at all (a temporary file renamed into place)."""
    fmt = export_format(target)
    if target == "-":
        return _write(items, sys.stdout, fmt)
    with atomic_file(target) as out:
        return _write(items, out, fmt)


@contextmanager
def atomic_file(target: str):
    """A text file that appears whole at `target` or not at all (written aside, renamed into place)."""
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            yield out
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(row: dict) -> dict:
    """A CSV row whose scraped strings cannot run as spreadsheet formulas (OWASP's CSV injection advice): a
    text cell that starts with =, +, -, @, a tab or a carriage return is written with a leading '."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v for k, v in row.items()}


def _write(items: Iterable[dict], out: TextIO, fmt: str) -> int:
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
    elif fmt == "json":
        out.write("[")
    for item in items:
        row = {k: item.get(k) for k in EXPORT_FIELDS}
        if fmt == "csv":
            writer.writerow(csv_safe({k: csv_cell(k, v) for k, v in row.items()}))
        elif fmt == "json":
            out.write(("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False))
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    if fmt == "json":
        out.write("\n]\n")
    return n


def csv_cell(key: str, value):
    """A CSV cell: lists as "a; b" (authors, tags), credits as "AP (dateline); AP (tagline)", the summary
    bullets, which are sentences, one per line; true / false for flags."""
    if key == "credits":
        return "; ".join(f"{c['agency']} ({c['where']})" for c in value)
    if isinstance(value, list):
        return ("\n" if key == "summary" else "; ").join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
