"""Extraction quality on ../shared/bench/extraction-dev: ROUGE-LSum (rouge-score, stemming, paragraphs
joined by newlines, mean over pages) of `reprocess` + `export` against the golden bodies, printed beside the
published scores of other extractors on the same set. The set's golden bodies count the standfirst and the
summary bullets as body (Fundus's ArticleBody), so `standfirst` + `summary` + `text` is scored; `text` alone
is printed too.

    python bench/extraction_quality.py [../shared/bench/extraction-dev]
"""
from __future__ import annotations

import csv
import json
import statistics
import sys
import tempfile
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_rows, run_reprocess  # noqa: E402

TARGET_F1 = 97.0


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "bench" / "extraction-dev")
    truth = json.loads((data / "dataset" / "ground_truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.sqlite"
        seconds = run_reprocess([str(data / "dataset" / "html")], store, workers=2)
        rows = {r["fetched_url"].rsplit("/", 1)[-1]: r for r in export_rows(store)}
    texts = {k: "\n".join([r["standfirst"] or "", *r["summary"], r["text"]]).strip() for k, r in rows.items()}
    alone = {k: r["text"] for k, r in rows.items()}
    scorer = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True)
    text_alone = statistics.mean(scorer.score("\n".join(g["body"]), alone.get(n, ""))["rougeLsum"].fmeasure
                                 for n, g in truth.items())
    per_page = {}
    for name, gold in truth.items():
        s = scorer.score("\n".join(gold["body"]), texts.get(name, ""))["rougeLsum"]
        per_page[name] = (s.precision, s.recall, s.fmeasure)
    mean = [100 * statistics.mean(v[i] for v in per_page.values()) for i in range(3)]
    print(f"{len(truth)} pages, {len(texts)} stored as articles, reprocess {seconds:.1f} s")
    print(f"{'extractor':14s} {'precision':>9s} {'recall':>7s} {'F1':>6s}")
    print(f"{'wirecrawl':14s} {mean[0]:9.2f} {mean[1]:7.2f} {mean[2]:6.2f}   (target F1 >= {TARGET_F1}; "
          f"standfirst + summary + text; text alone F1 {100 * text_alone:.2f})")
    with open(data / "published_rouge_lsum.tsv") as f:
        rows = list(csv.reader(f, delimiter="\t"))[3:]
    for row in rows:
        print(f"{row[0]:14s} {float(row[1]):9.2f} {float(row[3]):7.2f} {float(row[5]):6.2f}   (published)")
    by_pub: dict[str, list[float]] = {}
    for name, v in per_page.items():
        by_pub.setdefault(name.split("_")[0], []).append(v[2])
    print("per publisher F1:", ", ".join(f"{k} {100 * statistics.mean(v):.1f}" for k, v in sorted(by_pub.items())))
    worst = sorted(per_page.items(), key=lambda kv: kv[1][2])[:8]
    print("worst pages:", ", ".join(f"{k} P{v[0]:.2f}/R{v[1]:.2f}" for k, v in worst))


if __name__ == "__main__":
    main()
