"""A compact LSH band index: the banding rule of datasketch's MinHashLSH(params=(b, r)) (a candidate
shares all r values of at least one of the b bands; a test holds us to the same candidates), stored as
sorted uint64 arrays instead of b Python dicts of sets.

Why not MinHashLSH itself: with the 64 bands that containment needs, its dict storage measured about
18 KB and 180 us per signature (1,000,000 signatures: ~18 GB and ~3 minutes to reopen). Here one entry
is 16 bytes, a query is a few binary searches, and the sorted runs are saved beside the store and
memory-mapped on reopen.

Entries are (band key, signature id). Recent inserts sit in a dict; they are flushed into sorted runs,
which are merged log-structured. Ids are never reused (the store's AUTOINCREMENT), so entries of a
replaced signature are simply stale: callers re-check candidates against the stored signatures.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

_FLUSH_ENTRIES = 200_000   # delta entries before they become a sorted run
_MAX_RUNS = 6              # more runs than this: merge the smaller ones
_TIER = 4                  # merge two runs when the smaller is at least 1/_TIER of the larger
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def band_keys(minhash: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64[bands] (or [k, bands] for k signatures): each band's r values and its number mixed into
    one 64-bit key."""
    m = minhash[..., : bands * rows].astype(np.uint64).reshape(*minhash.shape[:-1], bands, rows)
    h = np.arange(1, bands + 1, dtype=np.uint64) * _GOLDEN
    with np.errstate(over="ignore"):
        for j in range(rows):
            h = (h ^ m[..., j]) * np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
    return h


class BandIndex:
    def __init__(self, bands: int, rows: int):
        self.bands, self.rows = bands, rows
        self._delta: dict[int, list[int]] = {}
        self._delta_entries = 0
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []   # (sorted keys, ids), largest first
        self._last: tuple[bytes, np.ndarray] | None = None     # filing queries, then adds, the same signature

    def _keys(self, minhash: np.ndarray) -> np.ndarray:
        raw = minhash.tobytes()
        if self._last is None or self._last[0] != raw:
            self._last = (raw, band_keys(minhash, self.bands, self.rows))
        return self._last[1]

    def __len__(self) -> int:
        return (self._delta_entries + sum(len(k) for k, _ in self.runs)) // self.bands

    def add(self, sig_id: int, minhash: np.ndarray) -> None:
        delta = self._delta
        for key in self._keys(minhash).tolist():
            ids = delta.get(key)
            if ids is None:
                delta[key] = [sig_id]
            else:
                ids.append(sig_id)
        self._delta_entries += self.bands
        if self._delta_entries >= _FLUSH_ENTRIES:
            self.flush()

    def add_many(self, ids: np.ndarray, minhashes: np.ndarray) -> None:
        """Add k signatures at once (k x num_perm), straight into a sorted run."""
        if not len(ids):
            return
        keys = band_keys(minhashes, self.bands, self.rows).reshape(-1)
        all_ids = np.repeat(np.asarray(ids, dtype=np.int64), self.bands)
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], all_ids[order]))
        self.flush()

    def query(self, minhash: np.ndarray) -> set[int]:
        keys = np.sort(self._keys(minhash))  # sorted needles search faster
        found: set[int] = set()
        for key in keys.tolist():
            ids = self._delta.get(key)
            if ids:
                found.update(ids)
        for run_keys, run_ids in self.runs:
            n = len(run_keys)
            lo = np.searchsorted(run_keys, keys)
            hit = lo < n
            hit[hit] = run_keys[lo[hit]] == keys[hit]
            for i in np.flatnonzero(hit).tolist():   # a band value seen before: take all its entries
                a = int(lo[i])
                b = a + 1
                while b < n and run_keys[b] == keys[i]:
                    b += 1
                found.update(run_ids[a:b].tolist())
        return found

    # -- runs -----------------------------------------------------------------------------------
    def flush(self, keep=None) -> None:
        """Move the recent inserts into a sorted run; merge runs when there are too many. `keep`, if
        given, is a function from an id array to a boolean mask of the entries to keep (eviction)."""
        if self._delta:
            keys = np.fromiter((k for k, ids in self._delta.items() for _ in ids), dtype=np.uint64, count=self._delta_entries)
            ids = np.fromiter((i for v in self._delta.values() for i in v), dtype=np.int64, count=self._delta_entries)
            order = np.argsort(keys, kind="stable")
            self.runs.append((keys[order], ids[order]))
            self._delta, self._delta_entries = {}, 0
        # size-tiered: merge the two smallest runs while they are within a factor of each other (or too many)
        self.runs.sort(key=lambda r: -len(r[0]))
        while len(self.runs) > 1 and (len(self.runs) > _MAX_RUNS or len(self.runs[-1][0]) * _TIER >= len(self.runs[-2][0])):
            (k1, i1), (k2, i2) = self.runs.pop(), self.runs.pop()
            self.runs.append(_merge(k1, i1, k2, i2, keep))
            self.runs.sort(key=lambda r: -len(r[0]))

    def compact(self, keep) -> None:
        """Merge everything into one run, dropping the entries `keep` rejects."""
        self.flush()
        if not self.runs:
            return
        keys, ids = self.runs[0]
        for k, i in self.runs[1:]:
            keys, ids = _merge(keys, ids, k, i, None)
        mask = keep(ids)
        self.runs = [(np.ascontiguousarray(keys[mask]), np.ascontiguousarray(ids[mask]))] if mask.any() else []

    # -- persistence ----------------------------------------------------------------------------
    def save(self, folder: Path, manifest: dict) -> None:
        """Write the runs and a manifest (written last, atomically: a half-written save is ignored)."""
        self.flush()
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for n, (keys, ids) in enumerate(self.runs):
            for part, arr in (("keys", keys), ("ids", ids)):
                name = f"run{n}.{part}.npy"
                if isinstance(arr, np.memmap) and Path(arr.filename) == folder / name:
                    continue  # already this file, unchanged since it was loaded
                tmp = folder / f".{name}.tmp"
                with open(tmp, "wb") as f:
                    np.save(f, np.asarray(arr))
                os.replace(tmp, folder / name)
            names.append(n)
        tmp = folder / ".manifest.json.tmp"
        tmp.write_text(json.dumps({**manifest, "runs": names}))
        os.replace(tmp, folder / "manifest.json")

    @classmethod
    def load(cls, folder: Path, bands: int, rows: int) -> tuple["BandIndex", dict] | None:
        """The saved index and its manifest, or None when there is none (or it is unreadable)."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            index = cls(bands, rows)
            for n in manifest["runs"]:
                index.runs.append((np.load(folder / f"run{n}.keys.npy", mmap_mode="r"),
                                   np.load(folder / f"run{n}.ids.npy", mmap_mode="r")))
        except (OSError, ValueError, KeyError):
            return None
        return index, manifest


def _merge(k1, i1, k2, i2, keep):
    keys = np.concatenate([k1, k2])
    ids = np.concatenate([i1, i2])
    order = np.argsort(keys, kind="stable")   # timsort: two sorted runs merge in linear time
    keys, ids = keys[order], ids[order]
    if keep is not None:
        mask = keep(ids)
        keys, ids = keys[mask], ids[mask]
    return keys, ids
