"""Extraction beside trafilatura alone, measured in the same run, per development set, per source and per
language: body precision / recall / F1, title, authors, published date, and golden-body pages not stored as
articles. Each entry is scored only on its `golden_fields` (extraction-dev: body only).

    python bench/extraction.py [SET ...] [--ablate all|none|STEP,STEP]
    (default: extraction-dev, extraction-dev2 and the syndication set's WARC, with its body labels; all steps)

Then, per set, each of wirecrawl's own steps switched off in turn (EXTRACT_STEPS_OFF; host templates by a
TEMPLATE_MIN_ARTICLES no host reaches; fast_mode by EXTRACT_FAST=False, the full comparison on every page):
the gain of the step on each measure (wirecrawl minus wirecrawl without it; positive: the step helps), and
its worst loss on any source or language group of 20+ pages. A step pays when it gains on the set and loses
at most 0.001 on any group (one page of twenty moving by 0.02).

Scoring (the same for both extractors):
- body: bag-of-tokens P/R/F1 against the golden paragraphs (tokens: casefolded words; a CJK, kana, hangul or
  Thai character is a token of its own), mean over pages; a page not stored, or with no text, scores 0.
- title: equal after casefolding and collapsing spaces and punctuation.
- authors: F1 of the sets of casefolded names (an agency in the golden byline counts as found when
  wirecrawl puts it in `wire_source`).
- published: the same calendar day (YYYY-MM-DD prefix; in UTC where the label is a UTC time and the output a
  time with an offset: mercury's labels are UTC, as that set's README says).
- rejected: pages with a golden body that wirecrawl did not store as an article.
- markup: pages with a golden body whose text holds a table row of a page's layout as trafilatura writes it
  ("| |", "| a paragraph |"): markup no label has. Rows of two or more cells (data tables) do not count.
- body is `text` alone, the contract, except on extraction-dev, whose labels count the standfirst and summary
  bullets as body (Fundus's ArticleBody): there standfirst + summary + text is scored.

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
from datetime import datetime, timezone
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


def _person_or_agency(name: str) -> str:
    from pipelines.steps.wire import agency_of
    return _norm(agency_of(name) or name)


def _authors_f1(got: list[str], gold: list[str]) -> float:
    g, t = {_person_or_agency(a) for a in got if a}, {_person_or_agency(a) for a in gold if a}
    if not t:
        return float(not g)
    common = len(g & t)
    return 2 * common / (len(g) + len(t)) if common else 0.0


def _trafilatura(item: tuple[str, bytes] | str) -> tuple[str, dict]:
    import trafilatura
    name, html = item if isinstance(item, tuple) else (Path(item).name, gzip.decompress(Path(item).read_bytes()))
    doc = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False, with_metadata=True)
    d = doc.as_dict() if doc is not None else {}
    authors = [a.strip() for a in re.split(r";|,| and ", d.get("author") or "") if a.strip()]
    return name, {"text": d.get("text"), "title": d.get("title"), "authors": authors,
                  "published": d.get("date"), "wire_source": None, "standfirst": None, "summary": []}


# Sets whose golden body counts the standfirst and the summary bullets as body (extraction-dev: Fundus's
# ArticleBody, summary included): there, wirecrawl's standfirst + summary + text is scored as the body.
_DEK_IN_BODY = {"extraction-dev"}


def _body(out: dict | None, with_dek: bool) -> str | None:
    if not out:
        return None
    if not with_dek:
        return out["text"]
    return "\n".join([out.get("standfirst") or "", *(out.get("summary") or []), out["text"] or ""])


def score(truth: dict, outputs: dict[str, dict | None], with_dek: bool = False) -> dict[str, dict[str, list[float]]]:
    """{group: {measure: [per-page values]}} for groups 'all', 'source:X', 'lang:Y'."""
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for name, gold in truth.items():
        fields = gold.get("golden_fields") or ["body"]
        out = outputs.get(name)
        keys = ["all", f"source:{gold.get('source') or 'extraction-dev'}", f"lang:{gold.get('language') or 'en'}"]
        values: dict[str, float] = {}
        if "body" in fields and gold.get("body"):
            p, r, f = prf(tokens(_body(out, with_dek)), tokens("\n".join(gold["body"])))
            values.update(body_p=p, body_r=r, body_f1=f, rejected=float(out is None),
                          markup=float(any(map(_layout_row, (_body(out, with_dek) or "").split("\n")))))
        if "title" in fields and gold.get("title"):
            values["title"] = float(out is not None and _norm(out["title"]) == _norm(gold["title"]))
        if "authors" in fields and gold.get("authors"):
            got = (out["authors"] + ([out["wire_source"]] if out.get("wire_source") else [])) if out else []
            values["authors"] = _authors_f1(got, gold["authors"])
        if "published" in fields and gold.get("published"):
            values["date"] = float(out is not None and _same_day(out["published"], gold["published"]))
        for k in keys:
            for m, v in values.items():
                groups[k][m].append(v)
    return groups


def _same_day(got: str | None, gold: str) -> bool:
    """The same calendar day; in UTC when the label is a UTC time ("...T15:00:00.000Z", as mercury's are) and
    the output a time with an offset ("2019-03-05T00:00:00+09:00" is 2019-03-04 in UTC). A date alone, or a
    time without an offset, is compared as written."""
    if not got:
        return False
    if gold.endswith("Z") and "T" in gold and "T" in got:
        try:
            when = datetime.fromisoformat(got)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            return when.astimezone(timezone.utc).date().isoformat() == gold[:10]
    return got[:10] == gold[:10]


MEASURES = ("body_p", "body_r", "body_f1", "title", "authors", "date", "rejected", "markup")
_LOWER_IS_BETTER = {"rejected", "markup"}


def _layout_row(line: str) -> bool:
    """A table row of a page's layout, as the extract step itself defines it (it rewrites only those)."""
    from pipelines.steps.extract import _layout_cell
    line = line.strip()
    return _layout_cell(line) != line


def _wirecrawl(html: Path, extra: list[str]) -> tuple[dict[str, dict], float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.sqlite"
        seconds = run_reprocess([str(html)], store, workers=2, extra=extra)
        key = (lambda r: r["fetched_url"]) if html.suffix == ".gz" else (lambda r: r["fetched_url"].rsplit("/", 1)[-1])
        return {key(r): r for r in export_rows(store)}, seconds


def load(data: Path) -> tuple[str, dict, Path, list]:
    """(name, truth, what reprocess reads, what trafilatura reads) of a development set: a folder in the
    extraction-dev layout, or the syndication set's WARC (its labels give each page's body, all English)."""
    if data.name.endswith(".warc.gz"):
        from fastwarc.warc import ArchiveIterator, WarcRecordType
        labels = json.loads(data.with_name(data.name.replace(".warc.gz", ".labels.json")).read_text())
        truth = {url: {"body": label["body"], "source": "syndication-dev", "language": "en", "golden_fields": ["body"]}
                 for url, label in labels.items()}
        records = [(r.headers.get("WARC-Target-URI"), r.reader.read()) for r in
                   ArchiveIterator(open(data, "rb"), record_types=WarcRecordType.response)]
        return "syndication-dev", truth, data, [(url, body.split(b"\r\n\r\n", 1)[-1]) for url, body in records]
    truth = json.loads((data / "dataset" / "ground_truth.json").read_text())
    html = data / "dataset" / "html"
    return data.name, truth, html, sorted(str(p) for p in html.iterdir())


def _mean(values: list[float] | None) -> float | None:
    return statistics.mean(values) if values else None


def ablations(arg: str) -> dict[str, list[str]]:
    from pipelines.options import STEPS
    every = {"templates": ["-s", "TEMPLATE_MIN_ARTICLES=1000000000"], "fast_mode": ["-s", "EXTRACT_FAST=False"]} | {
        step: ["-s", f"EXTRACT_STEPS_OFF={step}"] for step in STEPS}
    if arg == "none":
        return {}
    if arg == "all":
        return every
    return {step: every[step] for step in arg.split(",")}


def main() -> None:
    args = sys.argv[1:]
    ablate = "all"
    if "--ablate" in args:
        i = args.index("--ablate")
        ablate = args[i + 1]
        del args[i:i + 2]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    steps = ablations(ablate)
    sets = [Path(a) for a in args] or [_SHARED / "extraction-dev", _SHARED / "extraction-dev2",
                                       _SHARED / "syndication-dev.warc.gz"]
    for data in sets:
        name, truth, html, items = load(data)
        with ProcessPoolExecutor(2) as pool:
            plain = dict(pool.map(_trafilatura, items, chunksize=8))
        ours, seconds = _wirecrawl(html, [])
        names = set(truth)
        dek = name in _DEK_IN_BODY
        a, b = score(truth, {n: plain.get(n) for n in names}), score(truth, {n: ours.get(n) for n in names}, dek)
        print(f"\n== {name}: {len(truth)} pages; wirecrawl stored {len(ours)} articles in {seconds:.1f} s"
              + ("; body scored as standfirst + summary + text (the set's labels count them as body)" if dek else ""))
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
        if steps:
            print(f"\n-- {name}: gain of each step (wirecrawl - without it), all pages; worst group of 20+ pages")
            print(f"{'step':20s} " + " ".join(f"{m:>8s}" for m in MEASURES) + "  worst loss          verdict")
        for step, extra in steps.items():
            without, without_seconds = _wirecrawl(html, extra)
            c = score(truth, {n: without.get(n) for n in names}, dek)
            gains = []
            for m in MEASURES:
                x, y = _mean(b["all"].get(m)), _mean(c["all"].get(m))
                gains.append(None if x is None else (y - x if m in _LOWER_IS_BETTER else x - y))
            worst, where = 0.0, ""
            for group in b:
                if group == "all":
                    continue
                for m in MEASURES:
                    if len(b[group].get(m) or []) < 20:
                        continue
                    x, y = _mean(b[group][m]), _mean(c[group][m])
                    gain = y - x if m in _LOWER_IS_BETTER else x - y
                    if gain < worst:
                        worst, where = gain, f"{group} {m}"
            changed = sum(1 for n in names if any((ours.get(n) or {}).get(f) != (without.get(n) or {}).get(f)
                                                  for f in ("text", "title", "authors", "published")))
            helps = any(g is not None and g > 0.0005 for g in gains)
            verdict = ("pays" if helps and worst >= -0.001 else "loses somewhere" if helps
                       else "no effect" if not changed else "does not pay")
            cells = " ".join(f"{'-':>8s}" if g is None else f"{g:+8.4f}" for g in gains)
            print(f"{step:20s} {cells}  {worst:+.4f} {where[:26]:26s} {verdict} ({changed} pages differ; "
                  f"{seconds:.0f} s against {without_seconds:.0f} s without)", flush=True)


if __name__ == "__main__":
    main()
