"""Each boilerplate rule removes its chrome and leaves a real sentence that merely mentions a word."""
from __future__ import annotations

import pytest

from pipelines.steps import boilerplate

CASES = {
    "ad_marker": (
        ["Advertisement", "ADVERTISEMENT", "Advertisements below", "Story continues below advertisement",
         "- Advertisement -", "Scroll to continue with content"],
        ["The advertisement ran during the Super Bowl.", "Ad spending rose 4% in the quarter, the company said."],
    ),
    "call_to_action": (
        ["Stay informed! Receive breaking news blasts directly to your inbox for free. Subscribe here. https://www.oann.com/alerts",
         "Sign up for our newsletter", "Sign up for The Morning newsletter to get the news in your inbox.",
         "Download our app for the latest headlines", "Click here to subscribe"],
        ["Netflix said it signed up 13 million subscribers in the quarter, beating forecasts.",
         "The union urged members to sign up before the deadline in March, according to a statement."],
    ),
    "share_prompt": (
        ["Share this post!", "Share on Facebook", "Share on Facebook Share on X Email", "Copy Link URL", "Follow us on Twitter"],
        ["She did not share the details of the plan with reporters on Monday."],
    ),
    "teaser": (
        ["Read more: Fed holds rates steady as inflation cools", "RELATED: Five things to know about the storm",
         "Read More", "See also: How the vote count works",
         "I Was Banned From CPAC, but the Extremists Weren’t I Was Banned From CPAC, but the Extremists Weren’t"],
        ["Read more about the ruling, the judge told the jurors, and you will understand the law.",
         "Go go go, the crowd chanted as the runners passed the bridge.", "Bye bye, she said."],
    ),
    "copyright": (
        ["Copyright 2025 The Associated Press. All rights reserved. This material may not be published, broadcast, rewritten or redistributed.",
         "© 2024 Reuters", "This copy is for your personal, non-commercial use only."],
        ["Copyright law changed in 2019 when Congress passed the Music Modernization Act."],
    ),
}


@pytest.mark.parametrize("rule,line", [(r, line) for r, (pos, _) in CASES.items() for line in pos])
def test_rule_removes_its_chrome(rule, line):
    cleaned = boilerplate.strip_boilerplate([_story(), line])
    assert cleaned.lines == [_story()]
    assert cleaned.removed == {rule: 1}


@pytest.mark.parametrize("line", [line for _, (_, neg) in CASES.items() for line in neg])
def test_real_sentences_stay(line):
    cleaned = boilerplate.strip_boilerplate([_story(), line])
    assert cleaned.lines == [_story(), line]
    assert cleaned.removed == {}


@pytest.mark.parametrize("line,caption,credit", [
    ("Firefighters battle the blaze on Tuesday. (AP Photo/Noah Berger)", "Firefighters battle the blaze on Tuesday.", "AP Photo/Noah Berger"),
    ("A view of the harbour. Photograph: Jane Roe/The Guardian", "A view of the harbour.", "Photograph: Jane Roe/The Guardian"),
    ("Crowds gather outside the court | Getty Images", "Crowds gather outside the court", "Getty Images"),
])
def test_photo_captions_become_caption_and_credit(line, caption, credit):
    cleaned = boilerplate.strip_boilerplate([line, _story()])
    assert cleaned.lines == [_story()]
    assert (cleaned.image_caption, cleaned.image_credit) == (caption, credit)


def test_a_sentence_about_a_photo_is_not_a_caption():
    line = "He said he took a photo of the crash before the police arrived at the scene."
    assert boilerplate.strip_boilerplate([_story(), line]).lines == [_story(), line]


@pytest.mark.parametrize("line,people,agencies", [
    ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"], []),
    ("OAN Staff Blake Wolf", ["Blake Wolf"], []),
    ("By The Associated Press", [], ["AP"]),
    ("By MARY SMITH, Associated Press", ["Mary Smith"], ["AP"]),
])
def test_bylines_at_the_top_become_authors_and_wire_sources(line, people, agencies):
    cleaned = boilerplate.strip_boilerplate([line, _story()])
    assert cleaned.lines == [_story()]
    assert (cleaned.authors, cleaned.agencies) == (people, agencies)


def test_a_sentence_starting_with_by_is_not_a_byline_in_the_body():
    body = [_story(), "By Tuesday the river had crested."]
    assert boilerplate.strip_boilerplate(body).lines == body


def test_time_lines_are_metadata_but_sentences_with_dates_stay():
    cleaned = boilerplate.strip_boilerplate(["Updated 2:01 PM EST, February 9, 2025", _story(),
                                             "The vote is set for February 9, 2025, officials said."])
    assert cleaned.lines == [_story(), "The vote is set for February 9, 2025, officials said."]
    assert cleaned.date_line == "Updated 2:01 PM EST, February 9, 2025"


def test_author_bio_at_the_end_goes():
    bio = "Jane Doe is a reporter at the Los Angeles Times who writes about county government."
    assert boilerplate.strip_boilerplate([_story(), bio]).lines == [_story()]
    long_bio = ("Jason Miciak is an associate editor and opinion writer for Occupy Democrats. He grew up in the "
                "Pacific Northwest and is a trained attorney, but for the last five years he has devoted his time "
                "to writing political news and analysis. He enjoys life on the Gulf Coast with his dogs, books and "
                "a small boat that he keeps at the marina near his house, where he writes most mornings.")
    assert boilerplate.strip_boilerplate([_story(), long_bio]).lines == [_story()]
    assert boilerplate.strip_boilerplate([long_bio, _story()]).lines == [long_bio, _story()]  # only at the end


def _story() -> str:
    return ("LOS ANGELES (AP) — City officials on Tuesday approved a plan to expand bus service across the "
            "region, a move they said would cut commute times for tens of thousands of riders.")


def test_the_copyright_shortcut_decides_as_the_full_pattern_does():
    # letters that IGNORECASE matches to ASCII ones but lower() does not turn into them (ı, İ, ſ, K)
    for line in ("Copyr\u0131ght 2025 The Associated Press", "ALL R\u0130GHTS RESERVED.", "Reprints & Permi\u017f\u017fions",
                 "Our Standards: The Thomson Reuters Trust Principles.", "The reprint ran in 1999 under a new title."):
        assert boilerplate.is_copyright(line) == bool(boilerplate._COPYRIGHT.search(line)), line
