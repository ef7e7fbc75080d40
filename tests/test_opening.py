"""What an article opens with besides its body, its standfirst (dek) and its summary bullets, is exported apart
from the text (`standfirst`, `summary`); look-alikes (teaser links, menus, plain paragraphs) are neither."""
from __future__ import annotations

import json

from pipelines.article import process_page
from pipelines.model import Article, Page, RawRef
from pipelines.options import ExtractOptions
from tests.pages import PARAGRAPHS

DEK = "Lawmakers approved $42 billion for rural internet after months of talks between the parties"
TITLE = "Senate passes rural broadband bill"


def page(after_headline: str, description: str | None = None, header_only: bool = False) -> str:
    meta = f'<meta property="og:description" content="{description}">' if description else ""
    body = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    header = f"<header><h1>{TITLE}</h1>{after_headline}</header>"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>
<meta property="og:type" content="article">{meta}</head>
<body><main>{header}<article><div class="story-body">{body}</div></article></main></body></html>"""


def article_of(html: str) -> Article:
    article = process_page(Page("https://news.example/a", html.encode(), "text/html", "2025-03-05T00:00:00+00:00",
                                RawRef("x")), ExtractOptions())
    assert isinstance(article, Article), article
    return article


def text_of(html: str) -> list[str]:
    return article_of(html).lines


def test_a_subheadline_under_the_headline_is_the_standfirst_not_body_text():
    for after in (f"<h2>{DEK}</h2>", f'<p class="page-subheadline">{DEK}</p>', f'<div class="standfirst"><p>{DEK}</p></div>'):
        article = article_of(page(after))
        assert article.standfirst == DEK and article.lines == PARAGRAPHS, after


def test_the_declared_summary_shown_outside_the_body_is_the_standfirst():
    shown = f'<div class="meta"><span>Politics</span></div><div data-name="x"><p>{DEK}</p></div>'
    article = article_of(page(shown, description=DEK))
    assert article.standfirst == DEK and article.lines == PARAGRAPHS
    assert article_of(page("", description=DEK)).standfirst is None   # declared but not shown


def test_a_declared_summary_that_is_the_body_lead_stays_in_the_body():
    html = page("", description=PARAGRAPHS[0])
    article = article_of(html)
    assert article.standfirst is None and article.lines == PARAGRAPHS


def test_look_alikes_stay_out():
    for after in (f'<h2><a href="/other">{DEK}</a></h2>',              # a teaser link to another story
                  f"<p>{DEK}</p>",                                      # a plain paragraph after the headline
                  '<h2 class="dek">Politics and policy</h2>'):          # too short to be a standfirst
        assert text_of(page(after)) == PARAGRAPHS, after
    assert DEK not in text_of(page(f'<div><a href="/x"><p>{DEK}</p></a></div>', description=DEK))


def test_a_standfirst_already_in_the_body_is_not_repeated():
    assert text_of(page(f"<h2>{PARAGRAPHS[0]}</h2>")) == PARAGRAPHS


POINTS = ["The Senate approved $42 billion in grants for rural internet access on Tuesday",
          "States must put communities where fewer than half of homes are connected first",
          "The bill now goes to the House, where its prospects are uncertain"]


def bullets(heading: str, items: list[str], link: bool = False) -> str:
    lis = "".join(f"<li>{'<a href=/x>' if link else ''}{i}{'</a>' if link else ''}</li>" for i in items)
    return f'<div class="key-points"><div class="header">{heading}</div><div class="list"><ul>{lis}</ul></div></div>'


def test_summary_bullets_are_the_summary_not_body_text():
    article = article_of(page(f"<h2>{DEK}</h2>" + bullets("Key Points", POINTS)))
    assert (article.standfirst, article.summary, article.lines) == (DEK, POINTS, PARAGRAPHS)
    article = article_of(page(bullets("KEY TAKEAWAYS", POINTS)))
    assert (article.standfirst, article.summary, article.lines) == (None, POINTS, PARAGRAPHS)


def test_menus_and_short_lists_are_not_summary_bullets():
    assert article_of(page(bullets("Highlights", POINTS, link=True))).summary == []          # links to other stories
    assert text_of(page(bullets("Highlights", POINTS, link=True))) == PARAGRAPHS
    assert text_of(page(bullets("Key Points", ["Politics", "Business and markets"]))) == PARAGRAPHS  # too short
    assert text_of(page(bullets("More from us", POINTS))) == PARAGRAPHS                     # not a summary heading


def test_the_headline_as_shown_is_not_body_text_even_when_the_declared_title_differs():
    html = page("").replace(f"<title>{TITLE}</title>", "<title>Rural broadband: what the bill does</title>")
    html = html.replace('<div class="story-body">', f'<div class="story-body"><p>{TITLE}</p>')
    assert text_of(html) == PARAGRAPHS


ENTRIES = [("GOAL! Villa lead through Watkins", "Ollie Watkins turned in the cross at the near post after a flowing move down the left."),
           ("Half-time: Luton 0 Villa 1", "The visitors have had the better of a scrappy first half at Kenilworth Road tonight.")]


def live_blog(with_headings_in_ld: bool = True) -> str:
    updates = [{"@type": "BlogPosting", "articleBody": body, **({"headline": h} if with_headings_in_ld else {})}
               for h, body in ENTRIES]
    ld = json.dumps({"@context": "https://schema.org", "@type": "LiveBlogPosting", "headline": TITLE,
                     "liveBlogUpdate": updates})
    entries = "".join(f'<article class="live-post"><header><time>19:02</time><h2>{h}</h2></header>'   # extraction
                      f'<div class="live-post__body"><p>{b}</p></div></article>' for h, b in ENTRIES)  # drops these h2

    return page("").replace("</head>", f'<script type="application/ld+json">{ld}</script></head>').replace(
        '<div class="story-body">', f'<div class="story-body">{entries}')


def test_a_live_blogs_entries_keep_their_headlines_in_place():
    lines = text_of(live_blog())
    assert lines[:4] == [ENTRIES[0][0], ENTRIES[0][1], ENTRIES[1][0], ENTRIES[1][1]]
    assert lines.count(ENTRIES[0][0]) == 1 and lines[4:] == PARAGRAPHS
    assert not any(h in text_of(live_blog(with_headings_in_ld=False)) for h, _ in ENTRIES)  # only what the page declares
