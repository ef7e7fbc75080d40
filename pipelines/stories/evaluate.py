"""Scores of a clustering against labels: pairwise precision / recall / F1 and the adjusted Rand index
(used by the test suite's pinned floors and by bench/syndication_stories.py)."""
from __future__ import annotations

from collections import Counter
from math import comb


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    """truth, predicted: item -> cluster id, over the same items."""
    items = sorted(truth)
    joint = Counter((truth[i], predicted[i]) for i in items)
    tp = sum(comb(n, 2) for n in joint.values())
    true_pairs = sum(comb(n, 2) for n in Counter(truth[i] for i in items).values())
    pred_pairs = sum(comb(n, 2) for n in Counter(predicted[i] for i in items).values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = comb(len(items), 2)
    expected = true_pairs * pred_pairs / total if total else 0.0
    max_index = (true_pairs + pred_pairs) / 2
    ari = (tp - expected) / (max_index - expected) if max_index != expected else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "ari": ari}
