"""Stores, chosen by URI scheme (the protocol is base.Store). SQLite is the embedded default."""
from __future__ import annotations

import sqlite3

from .base import NoStore, Store, StoreBusy, StoreDamaged, StoreError, StoreFull, StoreReadOnly
from .sqlite import SQLiteStore

_SCHEMES = {"sqlite": SQLiteStore}

# What a store's methods can raise: a StoreError, or an engine's own error (a read that meets a damaged
# page), which the caller turns into a StoreError that says what to do with `store.failure(exc)`
ERRORS = (StoreError, sqlite3.Error)


def open_store(uri: str, read_only: bool = False) -> Store:
    """Open the store named by `uri` (e.g. sqlite:///data/wirecrawl.sqlite) to write, or to read only (a
    missing store is then NoStore); StoreError says what is wrong."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme not in _SCHEMES:
        raise StoreError(f"unsupported store URI {uri!r}: expected one of {', '.join(s + '://' for s in _SCHEMES)}")
    return _SCHEMES[scheme].from_uri(uri).open(read_only)


__all__ = ["ERRORS", "NoStore", "SQLiteStore", "Store", "StoreBusy", "StoreDamaged", "StoreError", "StoreFull",
           "StoreReadOnly", "open_store"]
