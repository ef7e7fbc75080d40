"""Fingerprint of an article body: normalised word shingles, hashed, and their datasketch MinHash.

Words are runs of word characters after Unicode NFKC and case folding, so curly and straight quotes,
dashes and other punctuation never change a shingle. A shingle's hash combines the xxh32 hashes of its
words (each word hashed once, then the combination vectorised); the signature is exactly what
`datasketch.MinHash(num_perm, seed, scheme="affine32")` gives for those shingle hashes (a test holds us
to that), computed with the permutations built once.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from xxhash import xxh32_intdigest

from ..options import DedupOptions

_WORD = re.compile(r"\w+")
_MULT = np.uint32(0x9E3779B1)   # odd: the polynomial combination of word hashes stays spread over 32 bits
_CACHE_LIMIT = 2_000_000


def words(text: str) -> list[str]:
    """The body's words: Unicode NFKC, case folded, punctuation (quotes, dashes) dropped."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingle_hashes(word_hashes: np.ndarray, size: int) -> np.ndarray:
    """uint32 hash of every run of `size` consecutive words (one shingle for a shorter text)."""
    n = len(word_hashes)
    if n == 0:
        return word_hashes
    k = min(size, n)
    h = word_hashes[: n - k + 1].copy()
    for j in range(1, k):
        h = h * _MULT + word_hashes[j: n - k + 1 + j]
    return h


@dataclass(frozen=True)
class Fingerprint:
    minhash: np.ndarray    # uint32[num_perm]
    shingles: np.ndarray   # sorted unique uint32 shingle hashes (for exact checks)
    text_hash: str         # identical normalised text <=> identical hash

    @property
    def size(self) -> int:
        return len(self.shingles)


class Signer:
    def __init__(self, options: DedupOptions):
        from datasketch.minhash import MinHash, _fmix  # here, not at import: see Stories.signer

        self.options = options
        self._fmix = _fmix
        template = MinHash(num_perm=options.num_perm, seed=options.seed, scheme=options.scheme)
        self.permutations = template.permutations
        a, b = template.permutations
        self._a, self._b = a.astype(np.uint32), b.astype(np.uint32)
        self._empty = template.hashvalues.copy()
        self._word_hash: dict[str, int] = {}

    def fingerprint(self, text: str) -> Fingerprint:
        ws = words(text)
        cache = self._word_hash
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for w in set(ws).difference(cache):
            cache[w] = xxh32_intdigest(w.encode())
        wh = np.array([cache[w] for w in ws], dtype=np.uint32)
        hv = np.unique(shingle_hashes(wh, self.options.shingle_size))
        return Fingerprint(self.sign(hv), hv, hashlib.sha1(" ".join(ws).encode()).hexdigest()[:16])

    def sign(self, hv: np.ndarray) -> np.ndarray:
        """The affine32 MinHash of uint32 shingle hashes (datasketch's update_batch, vectorised once)."""
        if not len(hv):
            return self._empty.copy()
        mixed = self._fmix(hv.reshape(-1, 1), 32)
        return (mixed * self._a + self._b).min(axis=0)
