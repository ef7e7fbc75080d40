"""Finding article URLs: in RSS/Atom feeds, sitemaps (Google News sitemaps included) and section pages.
Pure functions over bytes; XML is parsed without resolving entities and with bounded size."""
from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from io import BytesIO
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
from parsel import Selector

MAX_SITEMAP_URLS = 50_000   # the sitemap protocol's own limit per file


class MalformedSource(Exception):
    """A feed or sitemap that cannot be read; the message says why."""


def feed_items(body: bytes, url: str) -> list[tuple[str, str | None]]:
    """(article URL, published ISO time or None) of every item of an RSS/Atom feed."""
    if b"<!ENTITY" in body[:4096]:
        raise MalformedSource("feed declares XML entities (not resolved, refused)")
    parsed = feedparser.parse(body, response_headers={"content-location": url}, sanitize_html=False,
                              resolve_relative_uris=False)
    if parsed.bozo and not any(e.get("link") for e in parsed.entries):
        raise MalformedSource(f"not a readable feed: {parsed.get('bozo_exception')}")
    out = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        iso = datetime.fromtimestamp(calendar.timegm(when), timezone.utc).isoformat() if when else None
        out.append((urljoin(url, link), iso))
    return out


def sitemap_entries(body: bytes) -> tuple[str, list[tuple[str, str | None]]]:
    """('index' or 'urlset', [(loc, date)]) where date is the news extension's publication_date, else
    lastmod (ISO, as given), else None."""
    try:
        events = lxml.etree.iterparse(BytesIO(body), events=("end",), resolve_entities=False, no_network=True,
                                      remove_comments=True, remove_pis=True, huge_tree=False, recover=False)
        kind, entries, current = None, [], {}
        for _, el in events:
            tag = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
            if tag in ("loc", "lastmod", "publication_date"):
                current[tag] = (el.text or "").strip()
            elif tag in ("url", "sitemap"):
                kind = "index" if tag == "sitemap" else "urlset"
                if current.get("loc"):
                    entries.append((current["loc"], current.get("publication_date") or current.get("lastmod") or None))
                    if len(entries) > MAX_SITEMAP_URLS:
                        raise MalformedSource(f"more than {MAX_SITEMAP_URLS} URLs")
                current = {}
                el.clear()
    except lxml.etree.XMLSyntaxError as exc:
        raise MalformedSource(f"not a readable sitemap: {exc}") from exc
    if kind is None:
        raise MalformedSource("no <url> or <sitemap> entries")
    return kind, entries


_ARTICLE_PATH = re.compile(r"/(19|20)\d\d/|/\d{4}-\d\d-\d\d|[-_][a-z0-9]+[-_][a-z0-9]+[-_][a-z0-9]+|/article|/story|/news/\w", re.I)
_NOT_ARTICLE = re.compile(r"/(tag|tags|topic|topics|author|authors|category|section|search|video|videos|gallery|"
                          r"live|login|subscribe|newsletter|about|contact|privacy|terms)(/|$)|\.(jpg|png|gif|pdf|mp4)$", re.I)


def section_links(body: bytes, url: str, encoding: str = "utf-8") -> list[str]:
    """Links of a section front that look like articles, on the section's own host."""
    host = urlsplit(url).netloc.lower()
    sel = Selector(text=body.decode(encoding, "replace"))
    out, seen = [], set()
    for href in sel.css("a::attr(href)").getall():
        link = urljoin(url, href.strip()).split("#", 1)[0]
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host or link in seen:
            continue
        path = parts.path
        if path.rstrip("/") == urlsplit(url).path.rstrip("/") or _NOT_ARTICLE.search(path) or not _ARTICLE_PATH.search(path):
            continue
        seen.add(link)
        out.append(link)
    return out


def to_utc(value: str | None) -> datetime | None:
    """A feed or sitemap date as an aware datetime (a bare date is midnight UTC); None if unreadable."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
