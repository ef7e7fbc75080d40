"""From one fetched page to a clean article, or to the reason it is not one.

This is the function the worker processes run: pure, no I/O, no Scrapy, no shared state.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .model import Article, Page, Rejected
from .options import ExtractOptions
from .steps import boilerplate, dates, opening, people, wire
from .steps.decode import NotHtml, decode
from .steps.extract import extract_lines, parse
from .steps.structured import Structured, read_structured

_LOGIN = re.compile(r"\b(log ?in|sign ?in|subscribe to (continue|read)|create (a free )?account|"
                    r"consent|cookies? (settings|preferences)|verify you are (a )?human|access denied)\b", re.I)


def process_page(page: Page, options: ExtractOptions) -> Article | Rejected:
    if not page.body.strip():
        return Rejected.not_article(page, "empty_page", "no bytes")
    if len(page.body) > options.max_page_bytes:
        return Rejected.not_article(page, "too_large", f"{len(page.body)} bytes > {options.max_page_bytes}")
    try:
        text = decode(page.body, page.content_type)
    except NotHtml as exc:
        return Rejected.not_article(page, "not_html", str(exc))
    tree = parse(text)
    if tree is None or not len(tree):
        return Rejected.not_article(page, "empty_page", "no HTML document")
    meta = read_structured(tree)
    gate = _login_gate(tree, meta)
    listing = _looks_like_listing(tree, meta)
    opens_with = [opening.shown_standfirst(tree, meta.description)] + opening.summary_points(tree)
    lines = extract_lines(tree, meta.article_body, options)
    if lines:  # what the article opens with and extraction missed: its standfirst, its summary bullets
        lines = [x for x in opens_with if x and not opening.has_text(lines, x)] + lines
    if not lines:
        if gate:  # a login or consent page with no text at all
            return Rejected.not_article(page, "login_wall", f"{gate}, no body text")
        return Rejected.not_article(page, "section_page" if listing else "no_body", "no body text found")
    lines = opening.with_entry_headlines(lines, meta.live_updates)
    cleaned = boilerplate.strip_boilerplate(lines)
    title = clean_title(meta.title or meta.html_title, meta.site_name, page.fetched_url)
    body = _drop_headline(cleaned.lines, [title, *meta.shown_titles])
    words = sum(len(line.split()) for line in body)
    if gate and words < 150:
        return Rejected.not_article(page, "login_wall", gate)
    if listing and words < 300:
        return Rejected.not_article(page, "section_page", "many headline links and little text")
    if words < options.min_words:
        return Rejected.not_article(page, "too_short", f"{words} words < {options.min_words}")
    return _article(page, meta, cleaned, body, title)


def _article(page: Page, meta: Structured, cleaned: boilerplate.Cleaned, body: list[str], title: str | None) -> Article:
    url, canonical, host = article_url(page.fetched_url, meta.canonical_url)
    authors, agencies = people.normalise_authors(meta.authors)
    authors += [a for a in cleaned.authors if a not in authors]
    agencies += cleaned.agencies
    fetched = page.fetched_at
    caption, credit = cleaned.image_caption, cleaned.image_credit
    if credit is None and meta.figure_caption:
        caption, credit = boilerplate.split_caption(meta.figure_caption) or (meta.figure_caption, None)
    published = dates.not_after(dates.to_iso(meta.published) or dates.to_iso(cleaned.date_line), fetched)
    return Article(
        fetched_url=page.fetched_url, url=url, canonical_url=canonical, title=title, authors=authors,
        published=published, modified=dates.not_after(dates.to_iso(meta.modified), fetched),
        site_name=meta.site_name, host=host, language=_language(meta.language, body),
        description=meta.description, tags=meta.tags, image=_absolute(meta.image, page.fetched_url),
        image_caption=caption or meta.image_caption or None, image_credit=credit,
        wire_source=wire.from_dateline(body) or (agencies[0] if agencies else None) or wire.from_notes(cleaned.notes),
        lines=body, fetched_at=fetched, removed=cleaned.removed,
    )


def article_url(fetched_url: str, canonical: str | None) -> tuple[str, str | None, str | None]:
    """(url, canonical_url, host). The canonical URL names the article when it is on the fetched
    page's own site (or the page is a bare file); a canonical pointing to another host (a syndicated
    copy naming its origin) is kept as canonical_url but does not replace the outlet's own URL."""
    canonical = _absolute(canonical, fetched_url)
    fetched_host = urlsplit(fetched_url).hostname if fetched_url.startswith("http") else None
    url = fetched_url
    if canonical:
        canonical_host = urlsplit(canonical).hostname
        if fetched_host is None or _site(canonical_host) == _site(fetched_host):
            url = canonical
    host = fetched_host or (urlsplit(url).hostname if url.startswith("http") else None)
    return url, canonical, host


def clean_title(title: str | None, site_name: str | None, url: str) -> str | None:
    """The headline without a trailing (or leading) site name: 'Story | Site' -> 'Story'."""
    if not title:
        return None
    names = {_squash(site_name or "")}
    host = urlsplit(url).hostname or ""
    names |= {_squash(label) for label in host.split(".") if len(label) > 3}
    names.discard("")
    parts = re.split(r"\s+[|–—:·•-]\s+|\s+::\s+|(?<=\w):\s+", title)
    if len(parts) > 1:
        if _names_site(parts[-1], names):
            title = title[: title.rfind(parts[-1])].rstrip(" |–—:·•-")
        elif _names_site(parts[0], names):
            title = title[len(parts[0]):].lstrip(" |–—:·•-")
    return title.strip() or None


def _names_site(part: str, names: set[str]) -> bool:
    squashed = _squash(part)
    return bool(squashed) and any(squashed == n or squashed in n or n in squashed for n in names) and len(part.split()) <= 5


def _squash(text: str) -> str:
    return re.sub(r"[\W_]", "", re.sub(r"^the\s+|\bwww\b|\.(com|co\.uk|org|net)$", "", text.lower()))


def _site(host: str | None) -> str:
    parts = (host or "").lower().removeprefix("www.").removeprefix("m.").removeprefix("amp.").split(".")
    return ".".join(parts[-3:]) if len(parts) > 2 and len(parts[-1]) == 2 else ".".join(parts[-2:])


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    link = urljoin(base, link.strip())
    return link if link.startswith(("http://", "https://", "file://")) else None


def _drop_headline(lines: list[str], titles: list[str | None]) -> list[str]:
    """Without a first line that is the headline: the declared title, or the <h1> the page shows (which
    may be another wording than og:title)."""
    if lines and any(t and _squash(lines[0]) == _squash(t) for t in titles):
        return lines[1:]
    return lines


def _login_gate(tree, meta: Structured) -> str | None:
    """Why the page looks like a login, consent or paywall page. Real article pages often carry a
    login modal too, so a page that declares itself an article is never judged by its form alone."""
    if meta.is_article:
        return None
    if tree.xpath('.//input[@type="password"]'):
        return "password form"
    if meta.html_title and _LOGIN.search(meta.html_title):
        return f"title: {meta.html_title[:80]}"
    return None


def _looks_like_listing(tree, meta: Structured) -> bool:
    if meta.is_article:
        return False
    if meta.is_listing:
        return True
    headline_links = sum(1 for a in tree.iterfind(".//a") if len((a.text_content() or "").split()) >= 5)
    return headline_links >= 15


def _language(declared: str | None, body: list[str]) -> str | None:
    if declared:
        code = declared.replace("_", "-").split("-")[0].lower()
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    import py3langid  # imported on first use: loading its model costs ~0.3 s per process

    code, _ = py3langid.classify(" ".join(body)[:2000])
    return code
