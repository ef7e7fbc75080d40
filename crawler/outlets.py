"""The outlet list (`seeds/sources.toml`): read and validated before anything is fetched; a bad file
fails with its line and the reason."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

_KEYS = {"name", "feeds", "sitemaps", "sections", "allow", "deny", "max_age_days"}


class OutletsError(Exception):
    """The outlet list is unusable; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Outlet:
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    allow: tuple[re.Pattern, ...] = ()
    deny: tuple[re.Pattern, ...] = ()
    max_age_days: float = 3
    hosts: frozenset[str] = field(default=frozenset())

    def wants(self, url: str) -> bool:
        """Does an article URL pass this outlet's allow / deny patterns?"""
        if any(p.search(url) for p in self.deny):
            return False
        return not self.allow or any(p.search(url) for p in self.allow)


def load_outlets(path: str | Path) -> list[Outlet]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OutletsError(f"cannot read the outlet list {path}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OutletsError(f"{path}: not valid TOML: {exc}") from exc
    lines = text.splitlines()
    extra = set(data) - {"outlet"}
    if extra:
        raise OutletsError(f"{path}:{_line(lines, 0, sorted(extra)[0])}: unknown top-level key {sorted(extra)[0]!r} "
                           "(expected [[outlet]] tables)")
    tables = data.get("outlet")
    if not isinstance(tables, list) or not tables:
        raise OutletsError(f"{path}: no [[outlet]] tables")
    outlets, names = [], set()
    for n, table in enumerate(tables):
        where = lambda key=None: f"{path}:{_line(lines, n, key)}"  # noqa: E731
        unknown = set(table) - _KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise OutletsError(f"{where(key)}: unknown key {key!r} (expected {', '.join(sorted(_KEYS))})")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise OutletsError(f"{where('name')}: every outlet needs a name")
        if name in names:
            raise OutletsError(f"{where('name')}: outlet {name!r} is listed twice")
        names.add(name)
        lists = {}
        for key in ("feeds", "sitemaps", "sections"):
            urls = table.get(key, [])
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise OutletsError(f"{where(key)}: {key} must be a list of URLs")
            for url in urls:
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise OutletsError(f"{where(key)}: {url!r} is not an http(s) URL")
            lists[key] = tuple(urls)
        if not any(lists.values()):
            raise OutletsError(f"{where()}: outlet {name!r} has no feeds, sitemaps or sections")
        patterns = {}
        for key in ("allow", "deny"):
            raw = table.get(key, [])
            if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
                raise OutletsError(f"{where(key)}: {key} must be a list of regular expressions")
            try:
                patterns[key] = tuple(re.compile(p) for p in raw)
            except re.error as exc:
                raise OutletsError(f"{where(key)}: bad {key} pattern: {exc}") from exc
        age = table.get("max_age_days", 3)
        if isinstance(age, bool) or not isinstance(age, (int, float)) or age <= 0:
            raise OutletsError(f"{where('max_age_days')}: max_age_days must be a positive number, got {age!r}")
        hosts = frozenset(urlsplit(u).netloc.lower() for urls in lists.values() for u in urls)
        outlets.append(Outlet(name, lists["feeds"], lists["sitemaps"], lists["sections"], patterns["allow"],
                              patterns["deny"], float(age), hosts))
    return outlets


def _line(lines: list[str], table: int, key: str | None = None) -> int:
    """The line of the n-th [[outlet]] header, or of `key` inside that table (1-based)."""
    headers = [i for i, line in enumerate(lines) if line.strip().startswith("[[outlet]]")]
    if table >= len(headers):
        return 1
    start = headers[table]
    end = headers[table + 1] if table + 1 < len(headers) else len(lines)
    if key:
        for i in range(start, end):
            if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
                return i + 1
    return start + 1
