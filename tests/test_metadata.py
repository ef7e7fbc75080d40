"""Each source of authors, dates and titles, with a page that has it and a page where it must not be believed."""
from __future__ import annotations

import json

import pytest

from pipelines.article import process_page
from pipelines.model import Article, Page, RawRef
from pipelines.options import ExtractOptions

BODY = ("<p>The council approved the plan on Tuesday after a long debate about the cost of the new harbour wall, "
        "which engineers say must be finished before the autumn storms arrive.</p><p>Work starts in May and the "
        "ferry keeps running while the northern half of the wall is rebuilt, the council said in a statement.</p>")
FETCHED = "2025-03-05T00:00:00+00:00"


def article(head: str = "", before: str = "", title: str = "Harbour wall approved",
            url: str = "https://www.harbourpost.example/2025/02/wall") -> Article:
    html = (f"<html><head><title>{title}</title>{head}</head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>Harbour wall approved</h1>{before}{BODY}</article></body></html>")
    result = process_page(Page(url, html.encode(), "text/html", FETCHED, RawRef("x")), ExtractOptions())
    assert isinstance(result, Article), result
    return result


def ld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


AUTHOR_SOURCES = {
    "jsonld object": ld(author={"@type": "Person", "name": "Jane Doe"}),
    "jsonld list": ld(author=[{"@type": "Person", "name": "Jane Doe"}, {"name": "John Roe"}]),
    "jsonld string": ld(author="Jane Doe"),
    "meta author": '<meta name="author" content="Jane Doe">',
    "article:author": '<meta property="article:author" content="Jane Doe">',
    "parsely": '<meta name="parsely-author" content="Jane Doe">',
    "dublin core": '<meta name="DC.creator" content="Jane Doe">',
    "meta written with value=": '<meta name="author" value="Jane Doe">',   # (some saved pages write it so)
    "cxense": '<meta name="cXenseParse:author" content="Jane Doe">',
}


@pytest.mark.parametrize("source", AUTHOR_SOURCES)
def test_each_structured_source_of_authors(source):
    authors = article(AUTHOR_SOURCES[source]).authors
    assert authors[0] == "Jane Doe" and authors == (["Jane Doe", "John Roe"] if "list" in source else ["Jane Doe"])


@pytest.mark.parametrize("head", [
    '<meta name="author" content="https://www.facebook.com/harbourpost">',   # a link, not a name
    '<meta property="article:author" content="https://www.harbourpost.example/staff/">',
    '<meta name="author" content="Staff Writer">',                            # a role alone
    ld(author={"@type": "Person", "name": "jane@harbourpost.example"}),      # an e-mail address
    '<meta name="author" content="Dec">',                                     # a date's first word
    '<meta name="author" content="August">',
    '<meta name="author" content="The Author">',
    '<meta name="author" content="Lesedauer:">',                              # a reading time's label
    '<meta name="author" content="xxx">',                                     # a template's placeholder
    '<meta name="author" content="page.head.extra.author">',
    '<meta name="author" content="/@janedoe">',                               # a handle's path
    '<meta name="author" content="On December 9">',                           # a date line
])
def test_what_is_not_an_author_name_is_not_believed(head):
    assert article(head).authors == []


@pytest.mark.parametrize("declared, name", [
    ("BeauHD on Friday December", "BeauHD"),              # the date line after the name
    ("By: Jane Doe on", "Jane Doe"),
    ("CM Craig McCarthy", "Craig McCarthy"),              # an avatar's initials before the name
    ("Read more about The Upwork Team", "The Upwork Team"),
    ("On Kawara", "On Kawara"),                            # names that look like those words stay whole
    ("Augusta Decker", "Augusta Decker"),
    ("May Chen", "May Chen"),
    ("Marco", "Marco"),                                    # a first name alone, as some pages declare it
    ("Octavia", "Octavia"),
    ("Jane Doe - Editorial Team", "Jane Doe"),             # what follows a dash, or "in"/"at" a place
    ("Michael Larabel in Valve on", "Michael Larabel"),
    ("Reviewed by Jane Doe", "Jane Doe"),
    ("Doe, Jane", "Jane Doe"),                             # a catalogue's order
    ("Mary-Jane Watson", "Mary-Jane Watson"),
])
def test_what_an_author_field_adds_to_a_name_goes(declared, name):
    assert article(f'<meta name="author" content="{declared}">').authors == [name]


def test_the_generic_author_tag_gives_way_to_one_made_for_articles():
    assert article('<meta name="author" content="Harbour Media Group"><meta property="article:author" '
                   'content="Jane Doe">').authors == ["Jane Doe"]
    # ...when that one names someone: a link there leaves the generic tag's name
    assert article('<meta name="author" content="Jane Doe"><meta property="article:author" '
                   'content="https://www.facebook.com/harbourpost">').authors == ["Jane Doe"]


def test_content_is_read_before_value():
    assert article('<meta name="author" content="Jane Doe" value="John Roe">').authors == ["Jane Doe"]


def test_a_surname_that_starts_like_a_byline_word_is_kept_whole():
    assert article('<meta name="author" content="Di Stefano Marco">').authors == ["Di Stefano Marco"]
    assert article('<meta name="author" content="Von Anna Schmidt">').authors == ["Anna Schmidt"]


def test_an_agency_named_as_author_is_the_wire_source_not_a_person():
    a = article(ld(author=[{"@type": "Person", "name": "Jane Doe"}, {"@type": "Organization", "name": "Deutsche Presse-Agentur"}]))
    assert (a.authors, a.wire_source) == (["Jane Doe"], "dpa")
    a = article('<meta name="author" content="Associated Press">')
    assert (a.authors, a.wire_source) == ([], "AP")


@pytest.mark.parametrize("line, names", [
    ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]), ("Von Anna Schmidt", ["Anna Schmidt"]),
    ("Par Claire Dubois", ["Claire Dubois"]), ("di Giulia Ferri", ["Giulia Ferri"]), ("Por Javier Molina", ["Javier Molina"]),
    ("Door Pieter de Vries", ["Pieter de Vries"]), ("Av Erik Lindqvist", ["Erik Lindqvist"]),
    ("OAN Staff Blake Wolf", ["Blake Wolf"]),
])
def test_a_visible_byline_above_the_body(line, names):
    assert article(before=f"<p>{line}</p>").authors == names


def test_sentences_that_start_like_bylines_are_not_bylines():
    for line in ("The staff voted on Tuesday to accept the offer.", "By the way, the ferry runs on Sundays too."):
        assert article(before=f"<p>{line}</p>").authors == [], line


def test_a_rel_author_link_and_an_author_element():
    assert article(before='<p class="meta"><a rel="author" href="/p/1">Jane Doe</a></p>').authors == ["Jane Doe"]
    assert article(before='<div class="byline"><span class="author-name">Jane Doe</span></div>').authors == ["Jane Doe"]
    # an author's name in the comments is not the article's author
    html_comments = '<div class="comments"><span class="author">Troll Number</span></div>'
    assert article(before=html_comments).authors == []
    # an element that holds a label, not a name, is passed over for the next one
    labelled = '<p class="author">Author</p><div class="author-meta">Written by: Jane Doe</div>'
    assert article(before=labelled).authors == ["Jane Doe"]


def test_the_pages_own_body_class_does_not_hide_its_author_element():
    html = (f'<html><head><title>Harbour wall approved</title></head><body class="single no-sidebar"><article>'
            f'<h1>Harbour wall approved</h1><div class="byline"><span class="author-name">Jane Doe</span></div>{BODY}'
            f'</article><aside class="sidebar"><span class="author-name">John Roe</span></aside></body></html>')
    result = process_page(Page("https://www.harbourpost.example/x", html.encode(), "text/html", FETCHED, RawRef("x")),
                          ExtractOptions())
    assert result.authors == ["Jane Doe"]


DATE_SOURCES = {
    "jsonld": ld(datePublished="2025-02-09T14:01:00+00:00"),
    "jsonld list": ld(datePublished=["2025-02-09T14:01:00+00:00", "2025-02-10T08:00:00+00:00"]),
    "article:published_time": '<meta property="article:published_time" content="2025-02-09T14:01:00+00:00">',
    "parsely": '<meta name="parsely-pub-date" content="2025-02-09T14:01:00Z">',
    "dublin core": '<meta name="DCTERMS.issued" content="2025-02-09T14:01:00+00:00">',
    "time element": "",
}


@pytest.mark.parametrize("source", DATE_SOURCES)
def test_each_structured_source_of_the_date(source):
    before = '<p><time datetime="2025-02-09T14:01:00+00:00">Feb 9</time></p>' if source == "time element" else ""
    assert article(DATE_SOURCES[source], before=before).published[:16] == "2025-02-09T14:01"


def test_a_visible_date_line_and_then_htmldate():
    assert article(before="<p>2:01 PM – Sunday, February 9, 2025</p>").published == "2025-02-09T14:01:00"
    # nothing declared, nothing shown: htmldate reads the date in the URL
    assert article(url="https://www.harbourpost.example/2025/02/08/wall").published == "2025-02-08"


def test_a_date_after_the_fetch_is_not_believed_from_any_source():
    a = article('<meta property="article:published_time" content="2025-06-01T10:00:00+00:00">',
                url="https://www.harbourpost.example/wall")
    assert a.published is None or a.published < FETCHED[:10]
    assert article(before="<p>2:01 PM – Sunday, June 1, 2025</p>", url="https://www.harbourpost.example/wall").published != "2025-06-01T14:01:00"


@pytest.mark.parametrize("title, head, url, expected", [
    ("Harbour wall approved | Harbour Post", "", None, "Harbour wall approved"),                    # known from the host
    ("Harbour wall approved - The Daily Tide", '<meta property="og:site_name" content="The Daily Tide">', None,
     "Harbour wall approved"),
    ("Harbour wall approved | One America News Network", "", "https://www.oann.example/wall", "Harbour wall approved"),  # initials
    ("Harbour wall approved", '<meta property="og:title" content="Harbour &amp;quot;wall&amp;quot; approved">', None,
     'Harbour "wall" approved'),                                                                    # escaped twice
])
def test_titles_without_site_names_and_entities(title, head, url, expected):
    page = (f"<html><head><title>{title}</title>{head}</head><body><article>{BODY}</article></body></html>")
    result = process_page(Page(url or "https://www.harbourpost.example/x", page.encode(), "text/html", FETCHED, RawRef("x")),
                          ExtractOptions())
    assert result.title == expected


def test_a_title_whose_parts_are_all_headline_keeps_them():
    for title in ("Minecraft 1.8 - The Bountiful Update", "Café owners rally — “again”", "Prices rise - and rise again",
                  "Mayor: Harbour - first in the region to build a sea wall"):
        page = f"<html><head><title>{title}</title></head><body><article>{BODY}</article></body></html>"
        result = process_page(Page("https://www.games.example/x", page.encode(), "text/html", FETCHED, RawRef("x")),
                              ExtractOptions())
        assert result.title == title


@pytest.mark.parametrize("h1, head, expected", [
    # the one <h1> is the section's or the site's label, the declared titles name the story: theirs is taken
    ("Health", '<title>Harbour wall approved after storm - Health - Tide</title>', "Harbour wall approved after storm"),
    ("OCT 17", '<meta property="og:title" content="Harbour wall approved after storm">', "Harbour wall approved after storm"),
    # the <h1> is the story's headline in other words than a declared title, one of which it agrees with: it is kept
    ("Wall approved", '<meta property="og:title" content="Harbour wall approved after storm">', "Wall approved"),
    ("Council backs the wall", '<meta property="og:title" content="Why the harbour needs a wall now">'
     '<title>Council backs the wall | Tide</title>', "Council backs the wall"),
])
def test_the_one_h1_is_the_headline_when_a_declared_title_agrees(h1, head, expected):
    page = f"<html><head>{head}</head><body><article><h1>{h1}</h1>{BODY}</article></body></html>"
    result = process_page(Page("https://www.harbourpost.example/x", page.encode(), "text/html", FETCHED, RawRef("x")),
                          ExtractOptions())
    assert result.title == expected
    off = process_page(Page("https://www.harbourpost.example/x", page.encode(), "text/html", FETCHED, RawRef("x")),
                       ExtractOptions(steps_off=("title_h1_agrees",)))
    assert off.title == h1
