"""A compact LSH band index: the banding rule of datasketch's MinHashLSH(params=(b, r)) (a candidate
shares all r values of at least one of the b bands; a test holds us to the same candidates), stored as
sorted uint64 arrays instead of b Python dicts of sets.

Why not MinHashLSH itself: with the 64 bands that containment needs, its dict storage measured about
18 KB and 180 us per signature (1,000,000 signatures: ~18 GB and ~3 minutes to reopen). Here one entry
is 12 bytes (a uint64 key, a uint32 id), a query reads a few small windows of sorted keys, and the sorted
runs are saved beside the store and read back whole on reopen.

The searches run in C (`_bands.c`: a batch's needles in every run at once, each (signature, id) pair
given once) when that extension is built, else in numpy, with the same answers (tests run both).

Entries are (band key, signature id). Signatures added one at a time sit in a dict until they are flushed
into a sorted run; a batch becomes a run at once. Runs are merged log-structured. Ids are never reused (the
store's AUTOINCREMENT), so entries of a replaced signature are simply stale: callers re-check candidates
against the stored signatures.
"""
from __future__ import annotations

import json
import os
from itertools import chain
from pathlib import Path

import numpy as np

try:
    from . import _bands as native  # the run search in C (pip builds it on install)
except ImportError:   # not built: the numpy search below, with the same answers
    native = None

_FLUSH_ENTRIES = 200_000   # delta entries before they become a sorted run
_MAX_RUNS = 6              # more runs than this: merge the smaller ones
_TIER = 4                  # merge two runs when the smaller is at least 1/_TIER of the larger
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ID = np.uint32            # signature ids (the store's AUTOINCREMENT ids stay far below 2**32)


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


class Run:
    """One sorted run of (key, id) entries, with a bucket directory over the key's top bits so a lookup
    reads one small contiguous window instead of binary-searching the whole run (memory latency, not
    arithmetic, is what a lookup in a large run costs)."""
    __slots__ = ("keys", "ids", "shift", "directory")

    def __init__(self, keys: np.ndarray, ids: np.ndarray):
        self.keys, self.ids = keys, ids
        bits = max(1, int(np.log2(max(2, len(keys) // 4))))
        self.shift = np.uint64(64 - bits)
        self.directory = np.zeros((1 << bits) + 1, dtype=np.int32 if len(keys) < 2**31 else np.int64)
        np.cumsum(np.bincount((keys >> self.shift).astype(np.int64), minlength=1 << bits), out=self.directory[1:])

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries whose key is one of `needles`: the index in `needles` of each one's key, and its id."""
        bucket = (needles >> self.shift).astype(np.int64)
        lo = self.directory[bucket]
        lens = self.directory[bucket + 1] - lo
        total = int(lens.sum())
        if not total:
            return lens[:0], self.ids[:0]
        pos = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(total)
        which = np.repeat(np.arange(len(needles)), lens)
        hit = self.keys[pos] == needles[which]
        return which[hit], self.ids[pos[hit]]


class BandIndex:
    def __init__(self, bands: int, rows: int):
        self.bands, self.rows = bands, rows
        self._delta: dict[int, list[int]] = {}
        self._delta_entries = 0
        self.runs: list[Run] = []   # largest first

    def __len__(self) -> int:
        return (self._delta_entries + sum(len(r) for r in self.runs)) // self.bands

    def add(self, sig_id: int, minhash: np.ndarray, keys: np.ndarray | None = None) -> None:
        """Add a signature (`keys`: its band_keys, when made already)."""
        delta = self._delta
        for key in (band_keys(minhash, self.bands, self.rows) if keys is None else keys).tolist():
            ids = delta.get(key)
            if ids is None:
                delta[key] = [sig_id]
            else:
                ids.append(sig_id)
        self._delta_entries += self.bands
        if self._delta_entries >= _FLUSH_ENTRIES:
            self.flush()

    def add_many(self, ids: np.ndarray, minhashes: np.ndarray, keys: np.ndarray | None = None) -> None:
        """Add k signatures at once (k x num_perm; `keys`: their band_keys, when made already), straight
        into a sorted run."""
        if not len(ids):
            return
        keys = (band_keys(minhashes, self.bands, self.rows) if keys is None else keys).reshape(-1)
        all_ids = np.repeat(np.asarray(ids, dtype=_ID), self.bands)
        order = np.argsort(keys, kind="stable")
        self.runs.append(Run(keys[order], all_ids[order]))
        self.flush()

    def query(self, minhash: np.ndarray) -> set[int]:
        return self.query_many(minhash[np.newaxis])[0]

    def query_many(self, minhashes: np.ndarray, keys: np.ndarray | None = None) -> list[set[int]]:
        """The ids that share a band with each of k signatures (k x num_perm; `keys`: their band_keys, when
        made already), each run searched once for all their keys."""
        if keys is None:
            keys = band_keys(minhashes, self.bands, self.rows)
        # the recent entries: the lists of the keys that have one, gathered without a Python-level loop
        found = [set(chain.from_iterable(filter(None, map(self._delta.get, row)))) for row in keys.tolist()]
        if self.runs and len(keys) and native is not None:
            runs = [(run.keys, run.ids, run.directory, int(run.shift)) for run in self.runs]
            _group(np.frombuffer(native.lookup(np.ascontiguousarray(keys, dtype=np.uint64), self.bands, runs), np.int64), found)
        elif self.runs and len(keys):
            flat = keys.reshape(-1)
            order = np.argsort(flat)   # sorted needles search faster
            needles = flat[order]
            pairs = []   # (signature, id) of every match, as one int64 each
            for run in self.runs:
                which, ids = run.lookup(needles)
                pairs.append((order[which] // self.bands) << 32 | ids.astype(np.int64))
            _group(np.unique(np.concatenate(pairs)), found)   # each pair once: a near copy matches in many bands
        return found

    # -- runs -----------------------------------------------------------------------------------
    def flush(self, keep=None) -> None:
        """Move the recent inserts into a sorted run; merge runs when there are too many. `keep`, if
        given, is a function from an id array to a boolean mask of the entries to keep (eviction)."""
        if self._delta:
            keys = np.fromiter((k for k, ids in self._delta.items() for _ in ids), dtype=np.uint64, count=self._delta_entries)
            ids = np.fromiter((i for v in self._delta.values() for i in v), dtype=_ID, count=self._delta_entries)
            order = np.argsort(keys, kind="stable")
            self.runs.append(Run(keys[order], ids[order]))
            self._delta, self._delta_entries = {}, 0
        # size-tiered: merge the two smallest runs while they are within a factor of each other (or too many)
        self.runs.sort(key=lambda r: -len(r))
        while len(self.runs) > 1 and (len(self.runs) > _MAX_RUNS or len(self.runs[-1]) * _TIER >= len(self.runs[-2])):
            self.runs.append(_merge(self.runs.pop(), self.runs.pop(), keep))
            self.runs.sort(key=lambda r: -len(r))

    def compact(self, keep=None) -> None:
        """Merge everything into one run (a query then costs one binary search per band), dropping the
        entries `keep` rejects."""
        self.flush()
        if not self.runs or (len(self.runs) == 1 and keep is None):
            return
        merged = self.runs[0]
        for run in self.runs[1:]:
            merged = _merge(merged, run, None)
        keys, ids = merged.keys, merged.ids
        if keep is not None:
            mask = keep(ids)
            keys, ids = keys[mask], ids[mask]
        self.runs = [Run(np.ascontiguousarray(keys), np.ascontiguousarray(ids))] if len(keys) else []

    # -- persistence ----------------------------------------------------------------------------
    def save(self, folder: Path, manifest: dict) -> None:
        """Write the runs and a manifest (written last, atomically: a half-written save is ignored)."""
        self.flush()
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for n, run in enumerate(self.runs):
            for part, arr in (("keys", run.keys), ("ids", run.ids)):
                name = f"run{n}.{part}.npy"
                if getattr(arr, "_wirecrawl_file", None) == folder / name:
                    continue  # already this file, unchanged since it was loaded
                _write_replacing(folder / name, lambda f, arr=arr: np.save(f, np.asarray(arr)))
            names.append(n)
        _write_replacing(folder / "manifest.json", lambda f: f.write(json.dumps({**manifest, "runs": names}).encode()))

    @classmethod
    def load(cls, folder: Path, bands: int, rows: int) -> tuple["BandIndex", dict] | None:
        """The saved index and its manifest, or None when there is none (or it is unreadable)."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            index = cls(bands, rows)
            for n in manifest["runs"]:  # read whole: queries then never wait on the disk
                index.runs.append(Run(_load(folder / f"run{n}.keys.npy", np.uint64), _load(folder / f"run{n}.ids.npy", _ID)))
        except (OSError, ValueError, KeyError):
            return None
        return index, manifest


def _group(pairs: np.ndarray, found: list[set[int]]) -> None:
    """Add each of the distinct (signature << 32 | id) pairs, grouped by signature, to its signature's set."""
    if not len(pairs):
        return
    owner = pairs >> 32
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    for o, chunk in zip(owner[starts].tolist(), np.split(pairs & 0xFFFFFFFF, starts[1:])):
        found[o].update(chunk.tolist())


class _Loaded(np.ndarray):
    """An array read from a run file, remembering which (so an unchanged run is not rewritten)."""


def _load(path: Path, dtype) -> np.ndarray:
    arr = np.load(path)
    if arr.dtype != dtype or arr.ndim != 1:
        raise ValueError(f"{path}: unexpected {arr.dtype} array")
    arr = arr.view(_Loaded)
    arr._wirecrawl_file = path
    return arr


def _merge(a: Run, b: Run, keep) -> Run:
    keys = np.concatenate([a.keys, b.keys])
    ids = np.concatenate([a.ids, b.ids])
    order = np.argsort(keys, kind="stable")   # timsort: two sorted runs merge in linear time
    keys, ids = keys[order], ids[order]
    if keep is not None:
        mask = keep(ids)
        keys, ids = keys[mask], ids[mask]
    return Run(keys, ids)


def _write_replacing(path: Path, write) -> None:
    """Write a file through a temporary one renamed over it; a failed write (a full disk) leaves no
    temporary file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
