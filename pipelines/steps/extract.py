"""Extract: the article body's paragraphs from a parsed page, with trafilatura.

Precision mode first (it keeps less chrome); when the page itself says its body is much longer
(the JSON-LD `articleBody`) than what precision mode found, a second opinion in recall mode is taken.
"""
from __future__ import annotations

import re

import trafilatura
from lxml.etree import XPath
from lxml.html import HtmlElement, fromstring
from trafilatura.utils import HTML_PARSER

from ..options import ExtractOptions

_SHORT_RATIO = 0.6     # precision result below this share of the declared body: ask again
# Fast mode's result below this share of the words in the page's <p> elements: run the full comparison.
# At 0.6, 39 of the 336 development pages (syndication-dev, extraction-dev) were extracted twice, and for
# the 30 of them between 0.3 and 0.6 the second pass gave exactly the same lines: 15 % of all
# extraction time for nothing.
_FAST_RATIO = 0.3
# ...or when it finds under 500 characters: on a page whose text is not in <p> elements (div and span layouts,
# 2008 table layouts), fast mode keeps the wrong block. On extraction-dev2, 65 of 1,181 pages (5 %): body F1
# +0.012 over the set, no page worse; extracting all pages twice would give +0.017 for 40 % more time.
_FAST_MIN_CHARS = 500
# ...or on a page laid out in tables (5 or more <table> elements: 2000s layouts, forums, some portals), where
# fast mode keeps the neighbouring cells: on extraction-dev2, 18 % of pages, two thirds of what the full
# comparison on every page gains (body F1 +0.0025 of +0.0037); no page of extraction-dev or the
# syndication set has that many.
_FAST_MAX_TABLES = 5

# trafilatura's load_html repairs, done on UTF-8 bytes: it runs a regex over the whole decoded string
# and parses a str, 2.7 ms a page more than this for the same tree. Removed: control characters that
# XML forbids (lxml would refuse the text later) and U+FFFE/U+FFFF; a doctype with a "/" in it on the
# first line is dropped (libxml2 bug 1955915), a self-closing <html/> in the first lines opened.
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 13))
_NONCHARS = re.compile("[\ufffe\uffff]".encode())
_DOCTYPE = re.compile(rb"^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.I)
_SELF_CLOSED_HTML = re.compile(rb"(<html.*?)\s*/>", re.I)


def parse(text: str) -> HtmlElement | None:
    """The page's tree as trafilatura.load_html builds it; None when it is not an HTML document."""
    data = text.encode("utf-8", "surrogatepass").translate(None, _CONTROL)
    if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        data = _NONCHARS.sub(b"", data)
    beginning = text[:50].lower()
    if "doctype" in beginning:
        first, _, rest = data.partition(b"\n")
        data = _DOCTYPE.sub(b"", first, count=1) + b"\n" + rest
    for line in data[:4096].splitlines()[:4]:
        if b"<html" in line and line.endswith(b"/>"):
            data = _SELF_CLOSED_HTML.sub(rb"\1>", data, count=1)
            break
    try:
        tree = fromstring(data, parser=HTML_PARSER)
    except Exception:  # lxml refuses the bytes: let trafilatura's own fallbacks try
        return trafilatura.load_html(text)
    if tree is None or len(tree) < 1:
        return trafilatura.load_html(text)
    if "html" not in beginning and len(tree) < 2:  # trafilatura's test for "not HTML at all"
        return None
    return tree


def extract_lines(tree: HtmlElement, declared_body: str | None, options: ExtractOptions,
                  again: str | None = None) -> list[str]:
    """Body paragraphs. trafilatura works on its own copy of `tree`, so a second try reuses it.

    trafilatura's fast mode (no readability/jusText comparison) first: it costs 40 % less and is as
    good on most pages; on a page laid out in tables, or when it finds under 500 characters or under a third
    of what the page's paragraphs hold, the full comparison runs (with `options.fast` False, on every page).
    For a page that gave almost nothing, `again` asks for the full comparison ("full") or for recall mode
    ("recall").
    """
    if again is not None:
        return _run(tree, options, precision=options.favor_precision and again == "full", fast=False,
                    recall=again == "recall")
    if options.fast:
        if sum(1 for _ in tree.iter("table")) >= _FAST_MAX_TABLES:
            lines = _run(tree, options, precision=options.favor_precision, fast=False)
        else:
            paragraph_words = sum(len(p.text_content().split()) for p in tree.iter("p"))
            lines = _run(tree, options, precision=options.favor_precision, fast=True)
            if _words(lines) < _FAST_RATIO * paragraph_words or sum(map(len, lines)) < _FAST_MIN_CHARS:
                lines = _run(tree, options, precision=options.favor_precision, fast=False)
    else:
        lines = _run(tree, options, precision=options.favor_precision, fast=False)
    declared = len(declared_body.split()) if declared_body and options.on("declared_body") else 0
    if declared and _words(lines) < _SHORT_RATIO * declared:
        recall = _run(tree, options, precision=False, recall=True)
        if _words(recall) > _words(lines):
            lines = recall
    if declared and _words(lines) < _SHORT_RATIO * declared:
        # The markup hides the body (rendered by script, split over live-blog entries): use the
        # page's own declaration of it, after what extraction found that it does not repeat.
        seen = {" ".join(line.split()) for line in lines}
        lines = lines + [p for p in (" ".join(x.split()) for x in declared_body.split("\n")) if p and p not in seen]
    return lines


# Embedded social posts are quoted material, not the article's own text. Removed here, once: handing
# the XPath to trafilatura (prune_xpath) re-runs it at every stage and doubled extraction time.
_EMBEDS = XPath("//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media') "
                "or contains(@class, 'tiktok-embed') or contains(@class, 'bluesky-embed') or contains(@class, 'threads-post')]")


def _run(tree: HtmlElement, options: ExtractOptions, precision: bool, recall: bool = False, fast: bool = False) -> list[str]:
    for embed in _EMBEDS(tree):
        embed.drop_tree()
    result = trafilatura.extract(
        tree, fast=fast, favor_precision=precision, favor_recall=recall, include_comments=False,
        include_tables=options.include_tables, output_format="txt", with_metadata=False,
        deduplicate=False,  # a process-wide cache would make results depend on order
    )
    lines = [line.strip() for line in (result or "").split("\n") if line.strip()]
    return [cell for cell in map(_layout_cell, lines) if cell] if options.on("layout_cells") else lines


_CELLS = re.compile(r"(?<!\\)\|")


def _layout_cell(line: str) -> str:
    """A table row as trafilatura writes it ("| a | b |"), unless it is a row of a page's layout: one that
    holds a single cell gives that cell's text (a paragraph, a headline, a date), an empty one nothing. A
    row of two or more cells is a data table's and stays as it is."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    filled = [c.strip() for c in _CELLS.split(line[1:-1]) if c.strip()]
    if len(filled) > 1:
        return line
    return filled[0].replace("\\|", "|") if filled else ""


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)
