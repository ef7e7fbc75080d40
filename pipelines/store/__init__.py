"""Stores, chosen by URI scheme. SQLite is the embedded default; other backends plug in here."""
from __future__ import annotations

from .sqlite import (
    ERRORS,
    NoStore,
    SQLiteStore,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreReadOnly,
    failure,
)

_SCHEMES = {"sqlite": SQLiteStore}


def open_store(uri: str, read_only: bool = False) -> SQLiteStore:
    """Open the store named by `uri` (e.g. sqlite:///data/wirecrawl.sqlite) to write, or to read only (a
    missing store is then NoStore); StoreError says what is wrong."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme not in _SCHEMES:
        raise StoreError(f"unsupported store URI {uri!r}: expected one of {', '.join(s + '://' for s in _SCHEMES)}")
    return _SCHEMES[scheme].from_uri(uri).open(read_only)


__all__ = ["ERRORS", "NoStore", "SQLiteStore", "StoreDamaged", "StoreError", "StoreFull", "StoreReadOnly", "failure",
           "open_store"]
