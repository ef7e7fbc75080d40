"""Stores, chosen by URI scheme (the protocol is base.Store). SQLite is the embedded default; PostgreSQL
serves several machines."""
from __future__ import annotations

import sqlite3

import psycopg

from .base import NoStore, Saving, Store, StoreBusy, StoreDamaged, StoreError, StoreFull, StoreReadOnly
from .postgres import PostgresStore
from .sqlite import SQLiteStore

_SCHEMES = {"sqlite": SQLiteStore, "postgresql": PostgresStore, "postgres": PostgresStore}

# What a store's methods can raise: a StoreError, or an engine's own error (a read that meets a damaged
# page, a connection that is gone), which the caller turns into a StoreError that says what to do with
# `store.failure(exc)`
ERRORS = (StoreError, sqlite3.Error, psycopg.Error)


def open_store(uri: str, read_only: bool = False) -> Store:
    """Open the store named by `uri` (e.g. sqlite:///data/wirecrawl.sqlite) to write, or to read only (a
    missing store is then NoStore); StoreError says what is wrong."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme not in _SCHEMES:
        raise StoreError(f"unsupported store URI {uri!r}: expected one of {', '.join(s + '://' for s in _SCHEMES)}")
    return _SCHEMES[scheme].from_uri(uri).open(read_only)


__all__ = ["ERRORS", "NoStore", "PostgresStore", "SQLiteStore", "Saving", "Store", "StoreBusy", "StoreDamaged", "StoreError", "StoreFull",
           "StoreReadOnly", "open_store"]
