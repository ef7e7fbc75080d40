"""Is a candidate pair one story? Jaccard or containment of their shingle sets, estimated from the
signatures, and counted exactly on the stored shingles when the estimate is too close to call."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..options import DedupOptions


@dataclass(frozen=True)
class Overlap:
    jaccard: float
    containment: float   # share of the smaller set found in the larger
    shared: float        # shingles in common


def estimate(sig_a: np.ndarray, n_a: int, sig_b: np.ndarray, n_b: int) -> Overlap:
    j = float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
    shared = j * (n_a + n_b) / (1 + j)
    return Overlap(j, min(1.0, shared / max(1, min(n_a, n_b))), shared)


@dataclass(frozen=True)
class Estimates:
    """`estimate` of one signature against many, as arrays."""
    jaccard: np.ndarray
    containment: np.ndarray
    shared: np.ndarray

    def possible(self, opts: DedupOptions) -> np.ndarray:
        """Which pairs the linking rule, loosened by exact_margin, admits: the others are not one story
        (what `decide` would say of each without counting)."""
        s = opts.exact_margin
        return (self.shared >= opts.min_shared * (1 - s)) & (
            (self.jaccard >= opts.jaccard - s)
            | ((self.containment >= opts.containment - s) & (self.jaccard >= opts.containment_min_jaccard - s)))


def estimate_many(sig_a: np.ndarray, n_a: int, sigs: np.ndarray, ns: np.ndarray) -> Estimates:
    """`estimate(sig_a, n_a, sigs[i], ns[i])` for every row i, at once."""
    j = np.count_nonzero(sigs == sig_a, axis=1) / sig_a.shape[0]
    shared = j * (n_a + ns) / (1 + j)
    return Estimates(j, np.minimum(1.0, shared / np.maximum(1, np.minimum(n_a, ns))), shared)


def exact(sh_a: np.ndarray, sh_b: np.ndarray) -> Overlap:
    shared = len(np.intersect1d(sh_a, sh_b, assume_unique=True))
    union = len(sh_a) + len(sh_b) - shared
    return Overlap(shared / union if union else 0.0, shared / max(1, min(len(sh_a), len(sh_b))), shared)


def linked(o: Overlap, opts: DedupOptions, slack: float = 0.0) -> bool:
    """The linking rule; `slack` loosens (+) or tightens (-) every threshold at once."""
    if o.shared < opts.min_shared * (1 - slack):
        return False
    if o.jaccard >= opts.jaccard - slack:
        return True
    return o.containment >= opts.containment - slack and o.jaccard >= opts.containment_min_jaccard - slack


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
