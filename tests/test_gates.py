"""The not-an-article decisions, each with a page it must reject and pages it must keep."""
from __future__ import annotations

import trafilatura

from pipelines.article import process_page
from pipelines.model import Article, Page, RawRef, Rejected
from pipelines.options import ExtractOptions
from pipelines.steps.gates import length

STORY = ("The council approved the plan on Tuesday after a long debate about the cost of the new harbour wall, "
         "which engineers say must be finished before the autumn storms arrive on the coast.")
TEASERS = "".join(f'<li><a href="/n/{i}">Council debates plan number {i} for the harbour and the old town</a> '
                  f'<span>{i} hours ago</span></li>' for i in range(20))


def run(body: str, head: str = "", title: str = "A page", url: str = "https://news.example/a") -> Article | Rejected:
    html = f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    return process_page(Page(url, html.encode(), "text/html", "2025-03-05T00:00:00+00:00", RawRef("x")), ExtractOptions())


def test_length_counts_han_kana_and_thai_characters_as_words():
    assert length("江城市新建图书馆正式开放") == 12
    assert length("市場が再開 2025") == 6
    assert length("ข่าววันนี้") == 10
    assert length("해안도시에 새 수영장") == 3        # Hangul is written with spaces
    assert length("Two words") == 2


def test_a_chinese_brief_is_long_enough_and_two_characters_are_not():
    brief = "<article><h1>图书馆开放</h1><p>江城市新建的市图书馆于周六正式向市民开放，首日接待读者超过五千人次。</p></article>"
    kept = run(brief, '<meta property="og:type" content="article">')
    assert isinstance(kept, Article) and kept.lines == ["江城市新建的市图书馆于周六正式向市民开放，首日接待读者超过五千人次。"]
    tiny = run("<article><h1>标题</h1><p>你好</p></article>")
    assert isinstance(tiny, Rejected) and tiny.reason == "too_short"


def test_a_page_of_headline_links_is_a_section_page():
    rejected = run(f"<h1>Local news</h1><ul>{TEASERS}</ul>")
    assert isinstance(rejected, Rejected) and rejected.reason == "section_page"


def test_a_short_release_among_headline_links_is_kept_for_its_paragraph():
    kept = run(f"<ul>{TEASERS}</ul><div><h1>Harbour wall approved</h1><p>{STORY}</p></div><ul>{TEASERS}</ul>")
    assert isinstance(kept, Article) and STORY in kept.lines


BRIEF = ["The harbour office said on Tuesday that the north pier will close for repairs from Monday until the end of May.",
         "Ferries to the islands will leave from the south pier while the work goes on, the office said."]
NOTICES = "".join(f"<div class='box'><b>Notice {i}</b> Town hall desk open until {i + 3} pm; parking on Quay Street "
                  "free after six.</div>" for i in range(6))


def test_a_brief_that_recall_mode_keeps_among_its_chrome_is_stored_without_the_chrome():
    """Precision mode finds the brief and nothing else; its headline links make it look like a section page;
    recall mode finds the brief with the page's notices around it, which is no section page: the page is
    an article, and its text is the brief."""
    html = (f"<div class='nav'><ul>{TEASERS}</ul></div>{NOTICES}<div class='story'><h1>North pier to close</h1>"
            + "".join(f"<p>{p}</p>" for p in BRIEF) + f"</div>{NOTICES}")
    recall = trafilatura.extract(f"<html><body>{html}</body></html>", favor_recall=True)
    assert "Notice 3" in recall and BRIEF[0] in recall
    kept = run(html)
    assert isinstance(kept, Article) and kept.lines == BRIEF


def test_recall_mode_that_adds_a_paragraph_is_more_than_chrome_around_the_body():
    from pipelines.article import _within
    from pipelines.steps.gates import Links

    links = Links(["Council debates plan number 4 for the harbour and the old town"])
    chrome = [*BRIEF, "Notice 1 Town hall desk open until 4 pm."]
    assert _within(BRIEF, chrome, links)
    paragraph = " ".join(["The second part of the report says the repairs will cost four million euros."] * 3)
    assert not _within(BRIEF, [*chrome, paragraph], links)
    teaser = "Council debates plan number 4 for the harbour and the old town " + paragraph
    assert _within(BRIEF, [*chrome, teaser], links)       # a headline link and its summary is chrome too
    assert not _within(BRIEF, BRIEF[:1], links)            # the body is not all in it


def test_a_declared_article_is_never_a_section_page():
    short = "The council approved the harbour plan on Tuesday."
    kept = run(f"<ul>{TEASERS}</ul><div><h1>Harbour</h1><p>{short}</p></div>",
               '<meta property="og:type" content="article">')
    assert isinstance(kept, Article) and kept.lines == [short]


def test_a_password_form_without_a_body_is_a_login_wall():
    rejected = run('<h1>Sign in</h1><form><input type="password"></form><p>Please log in.</p>', title="Sign in")
    assert isinstance(rejected, Rejected) and rejected.reason == "login_wall"


def test_a_page_that_mentions_log_in_and_cookies_in_its_chrome_is_kept():
    chrome = ('<div><a href="/login">Log in</a> <a href="/r">Create a free account</a></div>'
              '<div hidden><form><input type="password"></form></div><div>We use cookies. Cookie settings</div>')
    kept = run(f"{chrome}<article><h1>Harbour wall approved</h1><p>{STORY}</p><p>{STORY}</p></article>",
               title="Sign in to read: Harbour wall approved")
    assert isinstance(kept, Article) and kept.lines[0] == STORY


def test_a_body_fast_extraction_misses_is_found_before_any_rejection():
    body = ("<h1>Harbour wall approved</h1><div>" + "".join(f"<span>{STORY}</span><br>" for _ in range(3))
            + "</div><p>© 2025 News Example. All rights reserved.</p>")
    fast = trafilatura.extract(f"<html><body>{body}</body></html>", fast=True, favor_precision=True)
    assert fast == "© 2025 News Example. All rights reserved."   # fast mode alone: a line boilerplate strips
    kept = run(body)
    assert isinstance(kept, Article) and kept.lines.count(STORY) == 3


def test_a_page_with_nothing_in_it_is_no_body():
    rejected = run("<div><img src='a.png'></div>")
    assert isinstance(rejected, Rejected) and rejected.reason == "no_body"
