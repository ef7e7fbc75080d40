"""Extract: the article body's paragraphs from a parsed page, with trafilatura.

Precision mode first (it keeps less chrome); when the page itself says its body is much longer
(the JSON-LD `articleBody`) than what precision mode found, a second opinion in recall mode is taken.
"""
from __future__ import annotations

import trafilatura
from lxml.etree import XPath
from lxml.html import HtmlElement

from ..options import ExtractOptions

_SHORT_RATIO = 0.6     # precision result below this share of the declared body: ask again


def parse(text: str) -> HtmlElement | None:
    return trafilatura.load_html(text)


def extract_lines(text: str, tree: HtmlElement, declared_body: str | None, options: ExtractOptions) -> list[str]:
    """Body paragraphs. `tree` is consumed (trafilatura prunes it); `text` re-parses for a second try.

    trafilatura's fast mode (no readability/jusText comparison) first: it costs 40 % less and is as
    good on most pages; when it finds much less than the page's paragraphs hold, the full comparison runs.
    """
    paragraph_words = sum(len(p.text_content().split()) for p in tree.iter("p"))
    lines = _run(tree, options, precision=options.favor_precision, fast=True)
    if _words(lines) < _SHORT_RATIO * paragraph_words:
        full = parse(text)
        if full is not None:
            lines = _run(full, options, precision=options.favor_precision, fast=False)
    declared = len(declared_body.split()) if declared_body else 0
    if declared and _words(lines) < _SHORT_RATIO * declared:
        second = parse(text)
        recall = _run(second, options, precision=False, recall=True) if second is not None else []
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
    return [line.strip() for line in (result or "").split("\n") if line.strip()]


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)
