"""The candidate index over a time window of stored signatures.

It holds the signatures within two windows of the newest one it has seen, so an article at most one
window older than the newest finds every possible partner in it; an older ("late") article is matched
against a band index built from the store's signatures around its time (and kept for the next late
article), by the same rule, so the result does not depend on which path found a pair. Candidates are
always re-checked against the stored signatures (`band_candidates`).

The bands are kept in a BandIndex saved beside the store (`<store>.bands/`) and read back at the
next start; whatever was stored after that save (a killed run) is added back from the store.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..options import DedupOptions
from .bands import BandIndex

_COMPACT_EVERY = timedelta(days=1)   # evict old entries (rewrite the runs) at most this often


class WindowIndex:
    def __init__(self, options: DedupOptions, tables, folder: Path | None):
        self.options = options
        self.tables = tables
        self.folder = folder
        self.window = timedelta(days=options.window_days)
        self.newest: str | None = tables.newest_t()
        self._digest = hashlib.sha1(json.dumps(asdict(options), sort_keys=True).encode()).hexdigest()[:16]
        self.restored_from_disk = False
        self._compacted_at = self.newest
        self.bands = self._open()
        self._late: tuple[str, str, BandIndex] | None = None   # (from, to, index) of an older time range

    def __len__(self) -> int:
        return len(self.bands)

    def _open(self) -> BandIndex:
        o = self.options
        loaded = BandIndex.load(self.folder, o.lsh_bands, o.lsh_rows) if self.folder else None
        if loaded and loaded[1].get("params") == self._digest and loaded[1].get("epoch") == self.tables.epoch():
            index, manifest = loaded
            self.restored_from_disk = True
            self._compacted_at = manifest.get("compacted_at") or self.newest
            since = manifest["max_id"]
        else:
            index, since = BandIndex(o.lsh_bands, o.lsh_rows), 0
        if self.newest is not None:
            batch: list[tuple] = []
            for row in self.tables.signatures_after(since, shift(self.newest, -2 * self.window)):
                batch.append(row)
                if len(batch) == 50_000:
                    index.add_many(np.array([r[0] for r in batch]), np.array([r[4] for r in batch]))
                    batch = []
            index.add_many(np.array([r[0] for r in batch], dtype=np.int64), np.array([r[4] for r in batch]))
        return index

    def covers(self, t: str) -> bool:
        """Are all possible partners of an article at time t in the index?"""
        return self.newest is None or shift(t, self.window) >= self.newest

    def add(self, sig_id: int, t: str, minhash: np.ndarray) -> None:
        self.bands.add(sig_id, minhash)
        if self._late and self._late[0] <= t <= self._late[1]:
            self._late[2].add(sig_id, minhash)
        if self.newest is None or t > self.newest:
            self.newest = t
            if self._compacted_at is None or shift(self._compacted_at, self.window) <= t:
                self._evict()

    def _evict(self) -> None:
        """Drop the entries more than two windows older than the newest. Done as the newest moves on by a
        window, not only when the index is saved: a run over a long archive keeps the index, and what
        each query wades through, to about three windows, whatever the archive's span."""
        live = self.tables.ids_since(shift(self.newest, -2 * self.window))
        self.bands.compact(lambda ids: np.isin(ids, live))
        self._compacted_at = self.newest

    def query(self, minhash: np.ndarray, t: str) -> list[tuple]:
        """(id, url, t, n_shingles, minhash) of the stored signatures that share a band with `minhash`
        (all of those within a window of t)."""
        return self._rows(minhash, self.bands if self.covers(t) else self._late_index(t))

    def _late_index(self, t: str) -> BandIndex:
        """A band index over the store's signatures around an older time t, kept for the next late article
        (reprocessing an archive out of order makes many)."""
        lo, hi = shift(t, -self.window), shift(t, self.window)
        if not (self._late and self._late[0] <= lo and hi <= self._late[1]):
            lo, hi = shift(t, -2 * self.window), shift(t, 2 * self.window)
            rows = self.tables.signatures_between(lo, hi)
            index = BandIndex(self.options.lsh_bands, self.options.lsh_rows)
            index.add_many(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[4] for r in rows]).reshape(len(rows), -1))
            self._late = (lo, hi, index)
        return self._late[2]

    def _rows(self, minhash: np.ndarray, bands: BandIndex) -> list[tuple]:
        rows = self.tables.signatures_by_id(sorted(bands.query(minhash)))
        if not rows:
            return []
        keep = band_candidates(minhash, np.array([r[4] for r in rows]), self.options)  # drop stale entries
        return [rows[i] for i in keep]

    def save(self) -> None:
        """Merge the runs into one, evicting entries older than two windows (at most daily), and save
        them for the next start."""
        if self.folder is None:
            return
        if self.newest and (self._compacted_at is None or shift(self._compacted_at, _COMPACT_EVERY) <= self.newest):
            self._evict()
        else:
            self.bands.compact()
        self.bands.save(self.folder, {"params": self._digest, "epoch": self.tables.epoch(),
                                      "max_id": self.tables.max_signature_id(), "compacted_at": self._compacted_at})

    @staticmethod
    def discard(folder: Path | None) -> None:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def band_candidates(minhash: np.ndarray, others: np.ndarray, options: DedupOptions) -> np.ndarray:
    """Indexes of the rows of `others` (k x num_perm) that share at least one LSH band with `minhash`:
    exactly the keys MinHashLSH(params=(bands, rows)).query would return for them."""
    if not len(others):
        return np.zeros(0, dtype=np.int64)
    b, r = options.lsh_bands, options.lsh_rows
    # each band's r uint32 values viewed as one item, so a band matches in one comparison (7x faster than
    # comparing values, then reducing over each band)
    band = {1: np.uint32, 2: np.uint64}.get(r, np.dtype(f"V{4 * r}"))
    mine = np.ascontiguousarray(minhash[: b * r], dtype=np.uint32).view(band)
    same = np.ascontiguousarray(others[:, : b * r], dtype=np.uint32).view(band) == mine
    return np.flatnonzero(same.any(axis=1))


def shift(t: str, delta: timedelta) -> str:
    """An ISO 8601 UTC time moved by delta, in the same format (so times compare as strings)."""
    return (datetime.fromisoformat(t) + delta).isoformat()
