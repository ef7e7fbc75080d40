"""The in-memory candidate index: datasketch MinHashLSH over the signatures of a time window.

It holds every signature whose time is within two windows of the newest one it has seen, so any article
at most one window older than the newest finds all its possible partners here; an older ("late")
article is matched against the store instead (`band_candidates`), by the same banding rule, so the
result does not depend on which path found a pair.
"""
from __future__ import annotations

import heapq
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHashLSH

from ..options import DedupOptions
from .fingerprint import Signature


class WindowIndex:
    def __init__(self, options: DedupOptions):
        self.options = options
        self.window = timedelta(days=options.window_days)
        self.lsh = MinHashLSH(num_perm=options.num_perm, params=(options.lsh_bands, options.lsh_rows))
        self.entries: dict[str, tuple[str, int, np.ndarray]] = {}   # url -> (t, n_shingles, minhash)
        self._by_time: list[tuple[str, str]] = []                  # heap of (t, url); stale entries skipped
        self.newest: str | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def covers(self, t: str) -> bool:
        """Are all possible partners of an article at time t in memory?"""
        return self.newest is None or shift(t, self.window) >= self.newest

    def add(self, url: str, t: str, n: int, minhash: np.ndarray) -> None:
        if url in self.entries:
            self.remove(url)
        self.lsh.insert(url, Signature(minhash), check_duplication=False)
        self.entries[url] = (t, n, minhash)
        heapq.heappush(self._by_time, (t, url))
        if self.newest is None or t > self.newest:
            self.newest = t
            self._evict()

    def remove(self, url: str) -> None:
        if self.entries.pop(url, None) is not None:
            self.lsh.remove(url)

    def query(self, minhash: np.ndarray) -> list[str]:
        return sorted(self.lsh.query(Signature(minhash)))

    def _evict(self) -> None:
        horizon = shift(self.newest, -2 * self.window)
        while self._by_time and self._by_time[0][0] < horizon:
            t, url = heapq.heappop(self._by_time)
            entry = self.entries.get(url)
            if entry is not None and entry[0] == t:
                self.remove(url)


def band_candidates(minhash: np.ndarray, others: np.ndarray, options: DedupOptions) -> np.ndarray:
    """Indexes of the rows of `others` (k x num_perm) that share at least one LSH band with `minhash`:
    exactly the keys MinHashLSH.query would return for them."""
    if not len(others):
        return np.zeros(0, dtype=np.int64)
    b, r = options.lsh_bands, options.lsh_rows
    same = (others[:, : b * r] == minhash[: b * r]).reshape(len(others), b, r).all(axis=2).any(axis=1)
    return np.flatnonzero(same)


def shift(t: str, delta: timedelta) -> str:
    """An ISO 8601 UTC time moved by delta, in the same format (so times compare as strings)."""
    return (datetime.fromisoformat(t) + delta).isoformat()
