"""From one fetched page to a clean article, or to the reason it is not one.

This is the function the worker processes run: pure, no I/O, no Scrapy, no shared state.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .model import Article, Page, Rejected
from .options import ExtractOptions
from .steps import boilerplate, dates, gates, opening, people, wire
from .steps.decode import NotHtml, decode
from .steps.extract import extract_lines, parse
from .steps.gates import length
from .steps.structured import Structured, author_elements, read_structured
from .steps.titles import choose_title, squash

_RETRY = 50   # words: a body this short after fast extraction is looked for again, in full


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
    meta = read_structured(tree, jsonld=options.on("meta_jsonld"), tags=options.on("meta_tags"))
    gate = gates.login_gate(tree, meta) if options.on("gate_login") else None
    links = gates.headline_links(tree, meta) if options.on("gate_listing") else None
    url, canonical, host = article_url(page.fetched_url, meta.canonical_url)
    title = choose_title(meta, url, options.on("title_site"), options.on("title_h1_agrees"))
    summary = opening.summary_points(tree) if options.on("opening") else []
    lines = extract_lines(tree, meta.article_body, options)
    standfirst, apart = opening.standfirst(tree, meta.description, lines) if options.on("opening") else (None, False)
    standfirst = standfirst if apart else None   # else it is the body's lead paragraph
    kept_apart = [x for x in (standfirst, *summary) if x]
    cleaned, body = _body(lines, meta, title, kept_apart, options)
    rejected = gates.verdict(body, gate, links, options.min_words)
    for mode in ("full", "recall"):
        # before any rejection, and for a body of almost nothing: the full comparison; before a rejection
        # still, recall mode (which on a short article's page would add its chrome)
        if rejected is None and (mode == "recall" or length("\n".join(body)) >= _RETRY):
            break
        again = _body(extract_lines(tree, meta.article_body, options, again=mode), meta, title, kept_apart, options)
        again_rejected = gates.verdict(again[1], gate, links, options.min_words)
        longer = length("\n".join(again[1])) > length("\n".join(body))
        if (longer and again_rejected is None) or (rejected is not None and (again_rejected is None or longer)):
            if mode == "recall" and again_rejected is None and rejected[0] == "section_page" and \
                    _within(body, again[1], links):
                rejected = None   # an article, by recall mode's body; its text is what precision found in it
                break
            (cleaned, body), rejected = again, again_rejected
    if rejected is not None:
        return Rejected.not_article(page, *rejected)
    article = _article(page, meta, cleaned, body, title, (url, canonical, host))
    article.standfirst, article.summary = standfirst, summary
    beside = wire.tagline_agencies([], _short_blocks(tree), copyright_lines=False)   # (left out of the body)
    _credit(article.credits, beside, "tagline")
    _shown_metadata(article, tree, options)
    return article


def _within(body: list[str], wider: list[str], links: gates.Links) -> bool:
    """Is a wider extraction of the page (recall mode's) this body with the page's chrome around it: every
    line of the body in it, and nothing added that is a paragraph (30 words) other than a teaser?"""
    keys = {opening.key(line) for line in body}
    return bool(body) and keys <= {opening.key(line) for line in wider} and \
        all(length(line) < gates.PARAGRAPH or links.teaser(line) for line in wider if opening.key(line) not in keys)


def _shown_metadata(article: Article, tree, options: ExtractOptions) -> None:
    """What the page shows when nothing structured said it: a byline or a time line right under the
    headline (outside the body), the element marked as the byline; then htmldate's reading of the date."""
    wants_author = not article.authors and not article.wire_source
    if (wants_author and options.on("byline_text")) or (article.published is None and options.on("date_text")):
        head = opening.head_lines(tree)
        for line in head if wants_author and options.on("byline_text") else ():
            byline = people.parse_byline(line)
            if byline is not None:
                article.authors, article.wire_source = byline.people, (byline.agencies or [None])[0]
                _credit(article.credits, byline.agencies, "byline")
                break
        if article.published is None and options.on("date_text"):
            shown = next((line for line in head if dates.is_date_line(line)), None)
            article.published = dates.not_after(dates.to_iso(shown), article.fetched_at)
    if not article.authors and not article.wire_source and options.on("byline_element"):
        for text in author_elements(tree):   # the first that names someone (not a label: "Author")
            article.authors, agencies = people.normalise_authors([text])
            if article.authors or agencies:
                article.wire_source = agencies[0] if agencies else None
                _credit(article.credits, agencies, "byline")
                break
    if article.published is None and options.on("date_htmldate"):
        article.published = dates.from_page(tree, article.fetched_url, article.fetched_at)


def _body(lines: list[str], meta: Structured, title: str | None, apart: list[str],
          options: ExtractOptions) -> tuple[boilerplate.Cleaned, list[str]]:
    """The cleaned paragraphs, and the body: without the headline, the standfirst and the summary bullets
    (exported apart) where extraction kept them."""
    if options.on("entry_headlines"):
        lines = opening.with_entry_headlines(lines, meta.live_updates)
    cleaned = boilerplate.strip_boilerplate(lines, options.steps_off)
    body = _drop_headline(cleaned.lines, [title, *meta.shown_titles]) if options.on("drop_headline") else cleaned.lines
    if apart:   # where the article opens; a summary bullet the body repeats further down stays there
        keys, head = {opening.key(x) for x in apart}, len(apart) + 2
        body = [line for i, line in enumerate(body) if i >= head or opening.key(line) not in keys]
    return cleaned, body


def _article(page: Page, meta: Structured, cleaned: boilerplate.Cleaned, body: list[str], title: str | None,
             where: tuple[str, str | None, str | None]) -> Article:
    url, canonical, host = where
    authors, declared = people.normalise_authors(meta.authors)
    authors += [a for a in cleaned.authors if a not in authors]
    agencies = declared + cleaned.agencies
    fetched = page.fetched_at
    caption, credit = cleaned.image_caption, cleaned.image_credit
    if credit is None and meta.figure_caption:
        caption, credit = boilerplate.split_caption(meta.figure_caption) or (meta.figure_caption, None)
    published = dates.not_after(dates.to_iso(meta.published) or dates.to_iso(cleaned.date_line), fetched)
    dateline = wire.from_dateline(body)
    credits: list[dict] = []
    _credit(credits, wire.datelines(body), "dateline")
    _credit(credits, declared, "structured")
    _credit(credits, [a for a in map(wire.agency_of, meta.credited) if a], "structured")
    _credit(credits, cleaned.agencies, "byline")
    _credit(credits, wire.tagline_agencies(cleaned.notes, body), "tagline")
    _credit(credits, wire.agencies_in(credit or ""), "image")
    return Article(
        fetched_url=page.fetched_url, url=url, canonical_url=canonical, title=title, authors=authors,
        published=published, modified=dates.not_after(dates.to_iso(meta.modified), fetched),
        site_name=meta.site_name, host=host, language=_language(meta.language, body),
        description=meta.description, tags=meta.tags, image=_absolute(meta.image, page.fetched_url),
        image_caption=caption or meta.image_caption or None, image_credit=credit,
        wire_source=dateline or (agencies[0] if agencies else None) or wire.from_notes(cleaned.notes),
        lines=body, fetched_at=fetched, removed=cleaned.removed, credits=credits,
    )


def _short_blocks(tree) -> list[str]:
    """The page's short paragraphs (where a tagline stands when extraction left it out of the body)."""
    out = []
    for el in tree.iter("p"):
        text = " ".join(el.text_content().split())
        if 10 < len(text) <= 200:
            out.append(text)
    return out


def _credit(credits: list[dict], agencies: list[str], where: str) -> None:
    for agency in agencies:
        if {"agency": agency, "where": where} not in credits:
            credits.append({"agency": agency, "where": where})


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
    if lines and any(t and squash(lines[0]) == squash(t) for t in titles):
        return lines[1:]
    return lines


def _language(declared: str | None, body: list[str]) -> str | None:
    if declared:
        code = declared.replace("_", "-").split("-")[0].lower()
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    import py3langid  # imported on first use: loading its model costs ~0.3 s per process

    code, _ = py3langid.classify(" ".join(body)[:2000])
    return code
