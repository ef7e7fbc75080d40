"""Text quality on the labelled syndication set: shingle F1 of each page's exported `text` against its
`body` label, and the inserted chrome lines left in the text.

    python bench/syndication_text.py [../shared/bench]
"""
from __future__ import annotations

import json
import re
import statistics
import sys
import unicodedata
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_rows, run_reprocess  # noqa: E402


def shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + k]) for i in range(max(1, len(words) - k + 1))}


def f1(pred: str, gold: str) -> tuple[float, float, float]:
    p, g = shingles(pred), shingles(gold)
    if not p or not g:
        return (0.0, 0.0, 0.0)
    tp = len(p & g)
    prec, rec = tp / len(p), tp / len(g)
    return prec, rec, (2 * prec * rec / (prec + rec) if tp else 0.0)


def norm(line: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", line.replace("\xad", "")).split())


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "bench")
    labels = json.loads((data / "syndication-dev.labels.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.sqlite"
        seconds = run_reprocess([str(data / "syndication-dev.warc.gz")], store, workers=2)
        rows = {r["fetched_url"]: r for r in export_rows(store)}
    scores, chrome, missing = [], [], []
    for url, label in labels.items():
        gold = "\n".join(label["body"])
        row = rows.get(url)
        if row is None:
            missing.append(url)
            scores.append((0.0, 0.0, 0.0))
            continue
        scores.append(f1(row["text"], gold))
        gold_lines = {norm(p) for p in label["body"]}
        chrome += [(url, line) for line in row["text"].split("\n")
                   if norm(line) not in gold_lines and not any(norm(line) in g for g in gold_lines)]
    print(f"pages {len(labels)}, articles exported {len(rows)}, missing {len(missing)}, reprocess {seconds:.1f} s")
    for i, name in enumerate(("precision", "recall", "F1")):
        print(f"shingle {name:9s} mean {statistics.mean(s[i] for s in scores):.4f}  median {statistics.median(s[i] for s in scores):.4f}")
    print(f"lines in text that are not in the label (inserted chrome left): {len(chrome)}")
    for url, line in chrome[:40]:
        print(f"  {url[:70]}: {line[:110]!r}")
    worst = sorted(zip(scores, labels), key=lambda t: t[0][2])[:8]
    print("worst pages:", ", ".join(f"{u[-40:]} {s[2]:.3f}" for s, u in worst))
    for u in missing[:10]:
        print("  missing:", u)


if __name__ == "__main__":
    main()
