"""Uncredited wire copy on the labelled syndication set, against its labels.

    python bench/credit.py [DATA_DIR]   (default ../shared/bench)

The set's stories start on a wire's own site. Truth: a syndicated copy of such a story is *credited* when its
label body or its page's text (less photo credit lines) carries the wire's dateline, byline or tagline
(`credited` below says how each is recognised); else uncredited. wirecrawl's `uncredited` flag is read from `scrapy export` of a
`scrapy reprocess` of the set. Precision of the flag is the costly figure (a credited copy called
uncredited): target 0.98."""
from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, export_rows, run_reprocess  # noqa: E402

sys.path.insert(0, str(ROOT))
from pipelines.steps.wire import AGENCIES, host_agency  # noqa: E402

_PHOTO = re.compile(r"\b(photo|image|picture|getty|illustration)\b", re.I)


def page_texts(warc: Path) -> dict[str, str]:
    """URL -> the page's visible text, one line per block (lxml), for the truth."""
    import lxml.html

    out = {}
    with gzip.open(warc, "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                tree = lxml.html.fromstring(record.content_stream().read())
                for bad in tree.xpath("//script|//style"):
                    bad.drop_tree()
                out[record.rec_headers.get_header("WARC-Target-URI")] = "\n".join(
                    " ".join(el.text_content().split()) for el in tree.iter("p", "div", "span", "li", "h1", "h2",
                                                                                 "time", "address", "footer", "figcaption"))
    return out


def credited(agency: str, texts: list[str]) -> bool:
    """Does a line carry the agency's dateline ("LONDON (AP) —" anywhere in it), a byline (a short line
    naming it, with "By" or its full name) or a tagline (copyright, "contributed to this report",
    Reuters' "(Reporting by ...; Editing by ...)")? Photo credit lines do not count."""
    name = re.compile(AGENCIES[agency], re.I)
    dateline = re.compile(rf"\((?:{AGENCIES[agency]})\)\s*[—–-]", re.I)
    for text in texts:
        for line in text.split("\n"):
            if _PHOTO.search(line) or not name.search(line):
                continue
            words = len(line.split())
            if dateline.search(line):
                return True
            if words <= 10 and (re.match(r"^\s*by\b", line, re.I) or len(name.search(line).group(0).split()) >= 2):
                return True
            if len(line) <= 200 and re.search(r"copyright|©|contributed to this (report|story)", line, re.I):
                return True
            if agency == "Reuters" and re.search(r"\(?(reporting|writing) by\b.*\bediting by", line, re.I):
                return True
    return False


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "bench")
    warc = data / "syndication-dev.warc.gz"
    labels = json.loads((data / "syndication-dev.labels.json").read_text())
    pages = page_texts(warc)
    origins = {lab["story"]: url for url, lab in labels.items() if lab["relation"] == "origin"}
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.sqlite"
        run_reprocess([str(warc)], store, 2)
        rows = {r["fetched_url"]: r for r in export_rows(store)}
    tp = fp = fn = tn = unflagged = 0
    wrong = []
    for url, lab in labels.items():
        if lab["relation"] != "syndicated":
            continue
        from urllib.parse import urlsplit

        agency = host_agency(urlsplit(origins.get(lab["story"], "")).hostname or "")
        if agency is None:
            continue   # (not a wire's story)
        truth = not credited(agency, ["\n".join(lab["body"]), pages.get(url, "")])
        flag = rows.get(url, {}).get("uncredited")
        if flag is None:
            unflagged += 1
            continue
        tp += flag and truth
        fp += flag and not truth
        fn += (not flag) and truth
        tn += (not flag) and not truth
        if flag != truth:
            wrong.append((url, flag, truth))
    flagged = tp + fp
    print(f"syndication set: {tp + fp + fn + tn + unflagged} copies of wire stories (by the labels); "
          f"{unflagged} without a flag (not filed as copies of a wire story)")
    print(f"  truly uncredited: {tp + fn}; flagged uncredited: {flagged} ({flagged / max(1, tp + fp + fn + tn):.1%} of the flagged copies)")
    print(f"  precision of the flag: {tp / flagged if flagged else float('nan'):.3f} (target 0.98)   "
          f"recall: {tp / (tp + fn) if tp + fn else float('nan'):.3f}")
    for url, flag, truth in wrong[:10]:
        print(f"    {'flagged' if flag else 'not flagged'}, truly {'uncredited' if truth else 'credited'}: {url}")


if __name__ == "__main__":
    main()
