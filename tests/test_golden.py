"""Golden pages (tests/golden/<page>/): pages of our own, modelled on the layouts and failures seen in the
development data, in 13 languages; every exported field is checked against expected.json, which states what
a careful reader of the page would export (tests/golden_update.py shows the differences and rewrites it)."""
from __future__ import annotations

import json

import pytest
from golden_update import extracted, folders

from pipelines.article import process_page
from pipelines.model import ARTICLE_FIELDS, Page, RawRef
from pipelines.options import ExtractOptions

GOLDEN = folders()


def test_there_are_forty_pages_in_eight_languages():
    rows = [json.loads((f / "expected.json").read_text()) for f in GOLDEN]
    assert len(GOLDEN) >= 40
    assert len({r["language"] for r in rows if "language" in r}) >= 8


@pytest.mark.parametrize("folder", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_page(folder):
    expected = json.loads((folder / "expected.json").read_text())
    got = extracted(folder)
    if "rejected" in expected:
        assert got == expected
        return
    assert list(expected) == list(ARTICLE_FIELDS)
    for field in ARTICLE_FIELDS:
        assert got.get(field) == expected[field], field


def test_a_date_after_the_fetch_is_not_believed():
    folder = next(f for f in GOLDEN if f.name == "wire-jsonld")
    page = Page("https://x.example/a", (folder / "page.html").read_bytes(), "text/html", "2024-01-01T00:00:00+00:00",
                RawRef("x"))
    published = process_page(page, ExtractOptions()).published   # the page declares 2025-02-16
    assert published is None or published[:10] <= "2024-01-01"   # (htmldate's guess, bounded by the fetch)
