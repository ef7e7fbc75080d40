"""The seed article: its chrome goes, its ten story paragraphs stay, its metadata is kept as metadata."""
from __future__ import annotations

from conftest import SEED_PAGES, SEED_TEXT

from pipelines.steps import boilerplate, dates

# The opening words of the ten story paragraphs of the seed, in order.
STORY_OPENINGS = [
    "U.S. Customs and Immigrations Enforcement (ICE) is gearing up",
    "The document was first reported by the Los Angeles Times",
    "The discovery follows after multiple reports",
    "“It’s driving him nuts",
    "Despite Trump’s supposed dissatisfaction",
    "The outlet added that an anonymous federal source",
    "Additionally, Trump recently ordered",
    "Meanwhile, Trump’s appointed Border Czar",
    "“It was a great start",
    "Acting ICE Director Caleb Vitello",
]
CREDIT = "Photo by ROBYN BECK/AFP via Getty Images"


def test_cleaning_the_seed_text_keeps_exactly_its_ten_story_paragraphs():
    cleaned = boilerplate.strip_boilerplate(SEED_TEXT.read_text().split("\n"))
    assert len(cleaned.lines) == 10
    for line, opening in zip(cleaned.lines, STORY_OPENINGS):
        assert line.startswith(opening)
    assert cleaned.lines[-1].endswith("almost 500,000 deportations per year.")


def test_cleaning_the_seed_text_turns_its_chrome_into_metadata():
    cleaned = boilerplate.strip_boilerplate(SEED_TEXT.read_text().split("\n"))
    assert cleaned.authors == ["Blake Wolf"]
    assert dates.to_iso(cleaned.date_line) == "2025-02-09T14:01:00"
    assert cleaned.image_credit == CREDIT
    assert cleaned.image_caption.startswith("This aerial view shows cars lined up at the Dodger Stadium")
    assert cleaned.image_caption.endswith("on November 14, 2020.")
    assert cleaned.removed == {"caption_credit": 1, "byline": 1, "date_line": 1, "ad_marker": 2,
                               "call_to_action": 1, "share_prompt": 1}


def test_the_seed_in_two_page_layouts_gives_the_same_article_end_to_end(wirecrawl):
    proc = wirecrawl.reprocess(SEED_PAGES)
    assert "articles stored: 2 (new 2, updated 0, unchanged 0)" in proc.stdout
    rows = wirecrawl.export()
    assert len(rows) == 2
    expected_text = boilerplate.strip_boilerplate(SEED_TEXT.read_text().split("\n")).lines
    for row in rows:
        assert row["text"].split("\n") == expected_text
        assert row["authors"] == ["Blake Wolf"]
        assert row["published"].startswith("2025-02-09T14:01:00")
        assert row["image_credit"] == CREDIT
        assert row["title"] == "ICE gearing up for ‘large scale’ raid in Los Angeles, leaked document shows"
        assert row["url"] == "https://www.oann.example/newsroom/ice-gearing-up-for-large-scale-raid-in-los-angeles/"
        assert row["fetched_url"].startswith("file://")
        assert row["wire_source"] is None  # an AFP photo credit does not make the story AFP's
    # layout B is windows-1252 declared only in <meta>: curly quotes must survive decoding
    assert all("“large scale”" in row["text"] for row in rows)
