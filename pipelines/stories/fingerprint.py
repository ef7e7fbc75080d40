"""Fingerprint of an article body: normalised word shingles, hashed, and their datasketch MinHash.

Words are runs of word characters after Unicode NFKC and case folding, so curly and straight quotes,
dashes and other punctuation never change a shingle. A shingle's hash combines the xxh32 hashes of its
words (each word hashed once, then the combination vectorised); the signature is exactly what
`datasketch.MinHash(num_perm, seed, scheme="affine32").update_batch` gives for those shingle hashes (tests
hold us to that, permutations included), computed with the permutations built once.

The work (words, case folding, word hashes, shingles, the signature) runs in C when the optional extension
`_minhash` is built (pip builds it on install), about 8x faster over a news corpus, Python only NFKC-normalising
a text beyond ASCII and typographic punctuation; without it, the code below computes the same values
(tests hold the two to identical fingerprints).

The permutations are drawn here with datasketch 2.0's own recipe rather than by importing datasketch:
its package import pulls in scipy, half a second of CPU in every process that signs (the extraction
workers and the main process), for two arrays of 128 numbers.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace

import numpy as np
from xxhash import xxh32_intdigest

from ..options import DedupOptions

_WORD = re.compile(r"\w+")
_MULT = np.uint32(0x9E3779B1)   # odd: the polynomial combination of word hashes stays spread over 32 bits
_CACHE_LIMIT = 2_000_000

# The fast path, for text that is ASCII once its typographic punctuation is blanked (most English news):
# there NFKC changes nothing, case folding is lowercasing and word characters are [0-9A-Za-z_], so one
# bytes.translate (lowercase, every other byte a space) and a split give the same words in half the time.
# Each separator is a non-word character whose NFKC form has no word character (a test holds us to it).
SEPARATORS = "\u00a0\u2009\u200a\u200b\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u2022"
_SEPARATOR_BYTES = tuple(c.encode() for c in SEPARATORS)
_ASCII_WORDS = bytes(ord(chr(b).lower()) if chr(b).isalnum() or b == 95 else 32 for b in range(128)) + b" " * 128
_ASCII_LINES = _ASCII_WORDS[:10] + b"\n" + _ASCII_WORDS[11:]   # the same, keeping line breaks

try:
    from . import _minhash as native
except ImportError:   # not built (no C compiler where it was installed): the numpy path below
    native = None
else:
    native.set_separators(SEPARATORS)


def words(text: str) -> list[str]:
    """The body's words: Unicode NFKC, case folded, punctuation (quotes, dashes) dropped."""
    raw = _blanked(text)
    if raw is None:
        return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return raw.translate(_ASCII_WORDS).decode("ascii").split()


def _blanked(text: str) -> bytes | None:
    """The text as ASCII bytes with its separators blanked, or None when other non-ASCII characters remain
    (a lone surrogate, from an escaped JSON string, included: it takes the general path, where it is no word)."""
    raw = text.encode("utf-8", "surrogatepass")
    if not raw.isascii():
        for sep in _SEPARATOR_BYTES:
            raw = raw.replace(sep, b" ")
        if not raw.isascii():
            return None
    return raw


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


@dataclass(frozen=True)
class LineWords:
    """An article's normalised words, line by line, their hashes made once (in the extraction worker)."""
    hashes: np.ndarray   # uint32: the hash of every word of every line, in order
    counts: np.ndarray   # int32: how many of them each line has
    joined: list[str]    # each line's words, joined by spaces
    whole: Fingerprint | None = None   # the fingerprint of all the lines, when made where the words were


def permutations(num_perm: int, seed: int) -> np.ndarray:
    """uint32[2, num_perm]: the (a, b) of datasketch's affine32 permutations h -> a*h + b mod 2^32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def fmix32(hv: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer datasketch applies to each hash before permuting it."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


_MAX32 = np.uint32(0xFFFFFFFF)


class Signer:
    def __init__(self, options: DedupOptions):
        self.options = options
        self.permutations = permutations(options.num_perm, options.seed)
        self._a, self._b = (p.reshape(-1, 1) for p in self.permutations)   # columns: one row per permutation
        self._empty = np.full(options.num_perm, _MAX32, dtype=np.uint32)
        self._pa, self._pb = (np.ascontiguousarray(p) for p in self.permutations)
        self._word_hash: dict[str, int] = {}

    def fingerprint(self, text: str) -> Fingerprint:
        if native is not None:
            hashes, _, joined = _native_words(text, by_line=False)
            return self._fingerprint(np.frombuffer(hashes, dtype=np.uint32), joined)
        ws = words(text)
        return self._fingerprint(self._hashes(ws), " ".join(ws))

    def line_words(self, lines: list[str], sign: bool = False) -> LineWords:
        """The words of each line, hashed: enough to fingerprint any selection of the lines without reading
        them again. They are the words of their text: no word spans a line break, and NFKC never composes
        across one, so the fingerprint of all of them is `fingerprint("\n".join(lines))` (tests hold us to it).
        `sign`: also fingerprint all the lines now (an extraction worker does, so that the main process,
        which files every article, signs only those that lose template lines)."""
        lw = self._native_line_words(lines) if native is not None else None
        if lw is None:
            raw = _blanked("\n".join(lines))
            per_line = None if raw is None else raw.translate(_ASCII_LINES).decode("ascii").split("\n")
            if per_line is not None and len(per_line) == len(lines):   # (the fast path of `words`, all lines at once)
                per_line = [line.split() for line in per_line]
            else:
                per_line = [words(line) for line in lines]
            hashes = self._hashes([w for ws in per_line for w in ws])
            lw = LineWords(hashes, np.array([len(ws) for ws in per_line], dtype=np.int32), [" ".join(ws) for ws in per_line])
        return replace(lw, whole=self.fingerprint_lines(lw)) if sign else lw

    @staticmethod
    def _native_line_words(lines: list[str]) -> LineWords | None:
        """line_words in C, all lines at once; None when a line holds a line break of its own."""
        hashes, counts, joined = _native_words("\n".join(lines), by_line=True)
        per_line = joined.decode().split("\n")
        if len(per_line) != len(lines):
            return None
        return LineWords(np.frombuffer(hashes, dtype=np.uint32), np.frombuffer(counts, dtype=np.int32), per_line)

    def _hashes(self, ws: list[str]) -> np.ndarray:
        cache = self._word_hash
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for w in set(ws).difference(cache):
            cache[w] = xxh32_intdigest(w.encode())
        return np.fromiter(map(cache.__getitem__, ws), dtype=np.uint32, count=len(ws))

    def fingerprint_lines(self, lw: LineWords, keep: np.ndarray | None = None) -> Fingerprint:
        """The fingerprint of the text of the lines `keep` selects (a bool per line; all when None)."""
        if lw.whole is not None and (keep is None or keep.all()):
            return lw.whole
        wh, joined = lw.hashes, lw.joined
        if keep is not None:
            wh = wh[np.repeat(keep, lw.counts)]
            joined = [j for j, k in zip(joined, keep) if k]
        return self._fingerprint(wh, " ".join(j for j in joined if j))

    def _fingerprint(self, word_hashes: np.ndarray, normalised: str | bytes) -> Fingerprint:
        """From the text's word hashes and its words joined by spaces (as UTF-8 bytes, or str)."""
        text_hash = hashlib.sha1(normalised if isinstance(normalised, bytes) else normalised.encode()).hexdigest()[:16]
        if native is not None:
            minhash = np.empty(self.options.num_perm, dtype=np.uint32)
            shingles = np.empty(max(1, len(word_hashes)), dtype=np.uint32)
            n = native.sign_hashes(np.ascontiguousarray(word_hashes, dtype=np.uint32), self.options.shingle_size,
                                   self._pa, self._pb, minhash, shingles)
            return Fingerprint(minhash, shingles[:n], text_hash)
        hv = _unique(shingle_hashes(word_hashes, self.options.shingle_size))
        return Fingerprint(self.sign(hv), hv, text_hash)

    def sign(self, hv: np.ndarray) -> np.ndarray:
        """The affine32 MinHash of uint32 shingle hashes (datasketch's update_batch, vectorised once)."""
        if not len(hv):
            return self._empty.copy()
        # permutations x shingles, reduced along the contiguous axis, added in place: 8x faster than the
        # shingles x permutations broadcast it replaces (same values)
        values = np.multiply(self._a, fmix32(hv))
        values += self._b
        return values.min(axis=1)


def _native_words(text: str, by_line: bool) -> tuple[bytes, bytes | None, bytes]:
    """_minhash.words of the text: as it is when it is ASCII but for the separators (the fast path of
    `words`), else once NFKC-normalised (case folding and the rest done in C)."""
    found = native.words(text, False, by_line)
    return found if found is not None else native.words(unicodedata.normalize("NFKC", text), True, by_line)


def _unique(values: np.ndarray) -> np.ndarray:
    """np.unique for a flat array, without its overhead (7x faster for an article's shingles)."""
    if len(values) < 2:
        return values.copy()
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]
