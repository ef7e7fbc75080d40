"""Extraction beside trafilatura alone, measured in the same run, per development set, per source and per
language: body precision / recall / F1, title, authors, published date, and golden-body pages not stored as
articles. Each entry is scored only on its `golden_fields` (extraction-dev: body only).

    python bench/extraction.py [../shared/bench/extraction-dev ../shared/bench/extraction-dev2]

Scoring (the same for both extractors):
- body: bag-of-tokens P/R/F1 against the golden paragraphs (tokens: casefolded words; a CJK, kana, hangul or
  Thai character is a token of its own), mean over pages; a page not stored, or with no text, scores 0.
- title: equal after casefolding and collapsing spaces and punctuation.
- authors: F1 of the sets of casefolded names (an agency in the golden byline counts as found when
  wirecrawl puts it in `wire_source`).
- published: the same calendar day (YYYY-MM-DD prefix).
- rejected: pages with a golden body that wirecrawl did not store as an article.

This is the baseline of issue 20's rig: no step is switched off here yet (the ablation columns come next).
"""
from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_rows, run_reprocess  # noqa: E402

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
_CJK = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")


def tokens(text: str | None) -> Counter:
    if not text:
        return Counter()
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.search(word):
            out += [c for c in word]
        else:
            out.append(word)
    return Counter(out)


def prf(got: Counter, gold: Counter) -> tuple[float, float, float]:
    common = sum((got & gold).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, r = common / sum(got.values()), common / sum(gold.values())
    return p, r, 2 * p * r / (p + r)


def _norm(s: str | None) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", s or "").casefold()))


def _authors_f1(got: list[str], gold: list[str]) -> float:
    g, t = {_norm(a) for a in got if a}, {_norm(a) for a in gold if a}
    if not t:
        return float(not g)
    common = len(g & t)
    return 2 * common / (len(g) + len(t)) if common else 0.0


def _trafilatura(path: str) -> tuple[str, dict]:
    import trafilatura
    html = gzip.decompress(Path(path).read_bytes())
    doc = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False, with_metadata=True)
    d = doc.as_dict() if doc is not None else {}
    authors = [a.strip() for a in re.split(r";|,| and ", d.get("author") or "") if a.strip()]
    return Path(path).name, {"text": d.get("text"), "title": d.get("title"), "authors": authors,
                             "published": d.get("date"), "wire_source": None}


def score(truth: dict, outputs: dict[str, dict | None]) -> dict[str, dict[str, list[float]]]:
    """{group: {measure: [per-page values]}} for groups 'all', 'source:X', 'lang:Y'."""
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for name, gold in truth.items():
        fields = gold.get("golden_fields") or ["body"]
        out = outputs.get(name)
        keys = ["all", f"source:{gold.get('source') or 'extraction-dev'}", f"lang:{gold.get('language') or 'en'}"]
        values: dict[str, float] = {}
        if "body" in fields and gold.get("body"):
            p, r, f = prf(tokens(out and out["text"]), tokens("\n".join(gold["body"])))
            values.update(body_p=p, body_r=r, body_f1=f, rejected=float(out is None))
        if "title" in fields and gold.get("title"):
            values["title"] = float(out is not None and _norm(out["title"]) == _norm(gold["title"]))
        if "authors" in fields and gold.get("authors"):
            got = (out["authors"] + ([out["wire_source"]] if out.get("wire_source") else [])) if out else []
            values["authors"] = _authors_f1(got, gold["authors"])
        if "published" in fields and gold.get("published"):
            values["date"] = float(out is not None and (out["published"] or "")[:10] == gold["published"][:10])
        for k in keys:
            for m, v in values.items():
                groups[k][m].append(v)
    return groups


MEASURES = ("body_p", "body_r", "body_f1", "title", "authors", "date", "rejected")


def main() -> None:
    sets = [Path(a) for a in sys.argv[1:]] or [_SHARED / "extraction-dev", _SHARED / "extraction-dev2"]
    for data in sets:
        truth = json.loads((data / "dataset" / "ground_truth.json").read_text())
        html = data / "dataset" / "html"
        files = sorted(str(p) for p in html.iterdir())
        with ProcessPoolExecutor(2) as pool:
            plain = dict(pool.map(_trafilatura, files, chunksize=8))
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "s.sqlite"
            seconds = run_reprocess([str(html)], store, workers=2)
            ours = {r["fetched_url"].rsplit("/", 1)[-1]: r for r in export_rows(store)}
        names = {Path(f).name for f in files}
        a, b = score(truth, {n: plain.get(n) for n in names}), score(truth, {n: ours.get(n) for n in names})
        print(f"\n== {data.name}: {len(truth)} pages; wirecrawl stored {len(ours)} articles in {seconds:.1f} s")
        print(f"{'group':24s} {'n':>5s} " + " ".join(f"{m:>15s}" for m in MEASURES))
        print(f"{'':24s} {'':5s} " + " ".join(f"{'traf / ours':>15s}" for _ in MEASURES))
        for group in sorted(b, key=lambda g: (g != "all", g.split(":")[0], g)):
            n = max(len(v) for v in b[group].values())
            if group.startswith("lang:") and n < 5:
                continue
            cells = []
            for m in MEASURES:
                if b[group].get(m):
                    cells.append(f"{statistics.mean(a[group][m]):.3f}/{statistics.mean(b[group][m]):.3f}".rjust(15))
                else:
                    cells.append(f"{'-':>15s}")
            print(f"{group:24s} {n:5d} " + " ".join(cells))


if __name__ == "__main__":
    main()
