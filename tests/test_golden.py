"""Golden pages: real-shaped pages of our own with every exported field checked by hand in expected.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.article import process_page
from pipelines.model import ARTICLE_FIELDS, Article, Page, RawRef
from pipelines.options import ExtractOptions

GOLDEN = sorted((Path(__file__).parent / "golden").iterdir())


@pytest.mark.parametrize("folder", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_page(folder):
    page = Page(f"https://{folder.name}.example/fetched", (folder / "page.html").read_bytes(), "text/html",
                "2025-03-05T00:00:00+00:00", RawRef(str(folder / "page.html")))
    article = process_page(page, ExtractOptions())
    assert isinstance(article, Article), article
    row = {k: ("\n".join(article.lines) if k == "text" else getattr(article, k)) for k in ARTICLE_FIELDS}
    expected = json.loads((folder / "expected.json").read_text())
    assert list(expected) == list(ARTICLE_FIELDS)
    for field in ARTICLE_FIELDS:
        assert row[field] == expected[field], field


def test_a_date_after_the_fetch_is_not_believed():
    folder = GOLDEN[0]
    page = Page("https://x.example/a", (folder / "page.html").read_bytes(), "text/html", "2024-01-01T00:00:00+00:00",
                RawRef("x"))
    assert process_page(page, ExtractOptions()).published is None
