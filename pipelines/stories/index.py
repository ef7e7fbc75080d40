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
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from ..options import DedupOptions
from .bands import BandIndex, band_keys, native

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

    def add(self, sig_id: int, t: str, minhash: np.ndarray, keys: np.ndarray | None = None) -> None:
        keys = band_keys(minhash, self.options.lsh_bands, self.options.lsh_rows) if keys is None else keys
        self.bands.add(sig_id, minhash, keys)
        self._added(sig_id, t, minhash, keys)

    def _added(self, sig_id: int, t: str, minhash: np.ndarray, keys: np.ndarray) -> None:
        """What follows the adding of a signature to the bands: the late index gets it too (when it is in its
        time range), and the window moves on."""
        if self._late and self._late[0] <= t <= self._late[1]:
            self._late[2].add(sig_id, minhash, keys)
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
        """(id, url, t, n_shingles, minhash) of the stored signatures that share a band with `minhash` (all
        of those within a window of t)."""
        return self._rows(minhash, (self.bands if self.covers(t) else self._late_index(t)).query(minhash))

    def add_and_query(self, entries: list[tuple[str, int | None, str, np.ndarray]]) -> Iterator[tuple[bool, list[tuple]]]:
        """For each (url, sig_id, t, minhash) of a batch in time order: add it (when it has an id: a signature
        just stored), then yield whether it is late (not `covers(t)`) and its possible partners: the rows
        `query(minhash, t)` gives then that are within a window of t, less its own.

        Done for the batch at once: the index as it was is searched once for all of them, each also finds
        the entries before it in the batch (`_earlier`), and they are added together. The same rows as one
        query after each add: the adds in between only add those entries, or evict ones more than two
        windows older than the newest, hence more than a window older than any t the index covers. A late
        one is queried alone, in a late index that gets each entry in turn."""
        if not entries:
            return
        window = self.window
        sigs = np.array([minhash for _, _, _, minhash in entries])
        keys = band_keys(sigs, self.options.lsh_bands, self.options.lsh_rows)
        before = self.bands.query_many(sigs, keys)
        earlier = _earlier(keys, [sig_id for _, sig_id, _, _ in entries])
        new = np.array([i for i, (_, sig_id, _, _) in enumerate(entries) if sig_id is not None], dtype=np.int64)
        self.bands.add_many(np.array([entries[i][1] for i in new], dtype=np.int64), sigs[new], keys[new])
        for (url, sig_id, t, minhash), k, found, mine in zip(entries, keys, before, earlier):
            if sig_id is not None:
                self._added(sig_id, t, minhash, k)
            late = not self.covers(t)
            rows = self._rows(minhash, self._late_index(t).query(minhash) if late else found | mine)
            lo, hi = shift(t, -window), shift(t, window)
            yield late, [r for r in rows if lo <= r[2] <= hi and r[1] != url]

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

    def _rows(self, minhash: np.ndarray, ids: set[int]) -> list[tuple]:
        rows = self.tables.signatures_by_id(sorted(ids))
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


def _earlier(keys: np.ndarray, sig_ids: list[int | None]) -> list[set[int]]:
    """For each of a batch's signatures (their band keys, k x bands), the ids of those before it in the batch
    that share a band key with it (one without an id is not added: it finds, but is never found)."""
    k = len(sig_ids)
    found: list[set[int]] = [set() for _ in sig_ids]
    if all(sig_id is None for sig_id in sig_ids):
        return found
    if native is not None:
        flags = bytes(sig_id is not None for sig_id in sig_ids)
        codes = np.frombuffer(native.earlier(np.ascontiguousarray(keys, dtype=np.uint64), keys.shape[1], flags), np.int64)
        for code in codes.tolist():
            later, first = divmod(code, k)
            found[later].add(sig_ids[first])
        return found
    flat = keys.reshape(-1)
    pos = np.repeat(np.arange(k), keys.shape[1])
    order = np.argsort(flat, kind="stable")   # equal keys side by side, each run in batch order
    flat, pos = flat[order], pos[order]
    pairs = []
    d = 1
    while d < len(flat):   # (later, earlier) of the entries d apart in a run of equal keys
        same = np.flatnonzero(flat[d:] == flat[:-d])
        if not len(same):
            break
        pairs.append(pos[same + d] * k + pos[same])
        d += 1
    for code in np.unique(np.concatenate(pairs)).tolist() if pairs else ():
        later, first = divmod(code, k)
        if later != first and sig_ids[first] is not None:
            found[later].add(sig_ids[first])
    return found


def band_candidates(minhash: np.ndarray, others: np.ndarray, options: DedupOptions) -> np.ndarray:
    """Indexes of the rows of `others` (k x num_perm) that share at least one LSH band with `minhash`:
    exactly the keys MinHashLSH(params=(bands, rows)).query would return for them."""
    if not len(others):
        return np.zeros(0, dtype=np.int64)
    b, r = options.lsh_bands, options.lsh_rows
    if native is not None:
        mine = np.ascontiguousarray(minhash, dtype=np.uint32)
        return np.frombuffer(native.share_band(mine, np.ascontiguousarray(others, dtype=np.uint32), b, r), np.int64)
    # each band's r uint32 values viewed as one item, so a band matches in one comparison (7x faster than
    # comparing values, then reducing over each band)
    band = {1: np.uint32, 2: np.uint64}.get(r, np.dtype(f"V{4 * r}"))
    mine = np.ascontiguousarray(minhash[: b * r], dtype=np.uint32).view(band)
    same = np.ascontiguousarray(others[:, : b * r], dtype=np.uint32).view(band) == mine
    return np.flatnonzero(same.any(axis=1))


@lru_cache(maxsize=4096)   # filing asks the same few times of each article several times over
def shift(t: str, delta: timedelta) -> str:
    """An ISO 8601 UTC time moved by delta, in the same format (so times compare as strings)."""
    return (datetime.fromisoformat(t) + delta).isoformat()
