"""Is a candidate pair one story? Jaccard or containment of their shingle sets, estimated from the
signatures, and counted exactly on the stored shingles when the estimate is too close to call."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..options import DedupOptions
from .fingerprint import native  # the compiled comparisons (None: numpy's, with the same answers)


@dataclass(frozen=True)
class Overlap:
    jaccard: float
    containment: float   # share of the smaller set found in the larger
    shared: float        # shingles in common


def estimate(sig_a: np.ndarray, n_a: int, sig_b: np.ndarray, n_b: int) -> Overlap:
    same = int.from_bytes(native.agree(sig_a, sig_b), "little") if native is not None else np.count_nonzero(sig_a == sig_b)
    j = float(same) / len(sig_a)
    shared = j * (n_a + n_b) / (1 + j)
    return Overlap(j, min(1.0, shared / max(1, min(n_a, n_b))), shared)


def estimate_many(sig_a: np.ndarray, n_a: int, sigs: np.ndarray, ns: np.ndarray) -> Overlap:
    """`estimate(sig_a, n_a, sigs[i], ns[i])` for every row i, at once: an Overlap of arrays."""
    if native is not None:
        same = np.frombuffer(native.agree(sig_a, np.ascontiguousarray(sigs, dtype=np.uint32)), dtype=np.int32)
    else:
        same = np.count_nonzero(sigs == sig_a, axis=1)
    j = same / sig_a.shape[0]
    shared = j * (n_a + ns) / (1 + j)
    return Overlap(j, np.minimum(1.0, shared / np.maximum(1, np.minimum(n_a, ns))), shared)


def exact(sh_a: np.ndarray, sh_b: np.ndarray) -> Overlap:
    """From two sorted sets of shingle hashes (each of the smaller looked up in the larger: 3x faster than
    np.intersect1d, which sorts both again)."""
    small, large = (sh_a, sh_b) if len(sh_a) <= len(sh_b) else (sh_b, sh_a)
    shared = 0
    if native is not None:
        shared = native.shared(np.ascontiguousarray(sh_a, dtype=np.uint32), np.ascontiguousarray(sh_b, dtype=np.uint32))
    elif len(small):
        at = np.searchsorted(large, small)
        shared = int(np.count_nonzero(large[np.minimum(at, len(large) - 1)] == small))
    union = len(sh_a) + len(sh_b) - shared
    return Overlap(shared / union if union else 0.0, shared / max(1, min(len(sh_a), len(sh_b))), shared)


def linked(o: Overlap, opts: DedupOptions, slack: float = 0.0):
    """The linking rule; `slack` loosens (+) or tightens (-) every threshold at once. A bool, or for an
    Overlap of arrays (estimate_many) an array of them."""
    return (o.shared >= opts.min_shared * (1 - slack)) & (
        (o.jaccard >= opts.jaccard - slack)
        | ((o.containment >= opts.containment - slack) & (o.jaccard >= opts.containment_min_jaccard - slack)))


def decide(sig_a: np.ndarray, n_a: int, sig_b: np.ndarray, n_b: int,
           shingles: Callable[[], tuple[np.ndarray, np.ndarray]], opts: DedupOptions) -> Overlap | None:
    """The overlap when the pair is one story, else None. The estimate decides when it is clear of
    every threshold by `exact_margin`; otherwise the stored shingles are counted."""
    est = estimate(sig_a, n_a, sig_b, n_b)
    loose, tight = linked(est, opts, opts.exact_margin), linked(est, opts, -opts.exact_margin)
    if loose == tight:
        return est if tight else None
    ex = exact(*shingles())
    return ex if linked(ex, opts) else None
