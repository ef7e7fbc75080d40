"""`scrapy crawl news [-a sources=PATH]`: fetch what is new from each outlet's feeds, news sitemaps and
section pages, and hand every article page to the item pipelines (extract, store, file into a story)."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.gz import gunzip
from twisted.internet.task import LoopingCall

from crawler.discover import MalformedSource, feed_items, section_links, sitemap_entries, to_utc
from crawler.options import dedup_options, extract_options
from crawler.outlets import Outlet, OutletsError, load_outlets
from crawler.urls import url_key
from pipelines.ingest import Ingest
from pipelines.progress import format_crawl_summary
from pipelines.model import Page, RawRef
from pipelines.sources.base import iso_utc
from pipelines.stories import DedupParamsMismatch
from pipelines.store import StoreDamaged, StoreError, StoreFull, StoreReadOnly


_PROGRESS_EVERY_S = 10.0


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sources_path = sources
        self.outlets: list[Outlet] = []
        self.run: Ingest | None = None
        self._scheduled: set[str] = set()
        self._sitemaps_seen: set[str] = set()
        self._validators: dict[str, tuple[str | None, str | None]] = {}   # saved when the run finishes
        self._incomplete: set[str] = set()   # sources with an article that failed: no validators saved
        self._last_progress = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        path = spider.sources_path or settings.get("SOURCES")
        try:
            spider.outlets = load_outlets(path)          # a bad list fails before anything is fetched
            spider.run = Ingest(settings.get("STORE_URI"), "crawl", extract_options(settings), dedup_options(settings),
                                settings.getint("TEMPLATE_MIN_ARTICLES"), {"sources": str(path)})
        except (OutletsError, StoreError, DedupParamsMismatch, ValueError, OSError) as exc:
            print(f"crawl: {exc}", file=sys.stderr)
            crawler.wirecrawl_exit = 2
            spider.outlets = []
            return spider
        spider.max_depth = settings.getint("SITEMAP_MAX_DEPTH")
        spider._committer = LoopingCall(spider._commit)   # stored pages are committed a quarter second at a time
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    def _opened(self, spider) -> None:
        self._committer.start(0.25, now=False)

    def _commit(self) -> None:
        if self.run is not None:
            self._progress()
            try:
                self.run.commit()
            except StoreError as exc:   # those pages are not marked fetched: the next run fetches them again
                self.run.counts.error("commit_failed")
                if isinstance(exc, (StoreFull, StoreDamaged, StoreReadOnly)):
                    self.fail(str(exc))
                else:
                    self.logger.error("could not commit stored pages (the next run fetches them again): %s", exc)

    def _progress(self) -> None:
        """A progress line on stderr every 10 s, as reprocess prints one."""
        if time.monotonic() - self._last_progress < _PROGRESS_EVERY_S:
            return
        self._last_progress = time.monotonic()
        c = self.run.counts
        print(f"[wirecrawl] {self.crawler.stats.get_value('downloader/request_count', 0)} requests, articles "
              f"{sum(c.articles.values())}, not-articles {sum(c.not_articles.values())}, errors "
              f"{sum(c.errors.values())}", file=sys.stderr, flush=True)

    def fail(self, message: str) -> None:
        """A full disk, a damaged or read-only store, an archive that cannot be written: no later page could
        be kept either, so the crawl stops (status failed, exit status 2) after saying why in one line; what
        was committed stays."""
        if getattr(self.crawler, "wirecrawl_exit", 0):
            return
        print(f"crawl: {message}", file=sys.stderr, flush=True)
        self.crawler.wirecrawl_exit = 2
        self._closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason="failed"))

    async def start(self):
        if self.run is None:
            raise CloseSpider("not started")
        for outlet in self.outlets:
            for url in outlet.feeds:
                yield self._source(url, self.parse_feed, outlet)
            for url in outlet.sitemaps:
                self._sitemaps_seen.add(url)
                yield self._source(url, self.parse_sitemap, outlet, depth=0)
            for url in outlet.sections:
                yield self._source(url, self.parse_section, outlet)

    # -- sources ------------------------------------------------------------------------------
    def _source(self, url: str, callback, outlet: Outlet, **kwargs) -> scrapy.Request:
        """A conditional request for a feed, sitemap or section page (ETag / Last-Modified of last time)."""
        etag, modified = self.run.store.fetch_state(url)
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
        return scrapy.Request(url, callback, headers=headers, errback=self._source_failed, dont_filter=True,
                              cb_kwargs={"outlet": outlet, **kwargs}, meta={"handle_httpstatus_list": [304]})

    def _fresh_source(self, response) -> bool:
        if response.status == 304:
            self.run.counts.not_modified += 1
            return False
        return True

    def _remember(self, response) -> None:
        """Keep a source's validators; they are saved only when the run finishes and every article it
        listed was fetched, so a source with a missed article is read in full again next time."""
        etag, modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
        if etag or modified:
            self._validators[_asked(response)] = (etag and etag.decode("latin-1"), modified and modified.decode("latin-1"))

    def parse_feed(self, response, outlet: Outlet):
        if not self._fresh_source(response):
            return
        try:
            items = feed_items(response.body, response.url)
        except MalformedSource as exc:
            self._source_error("malformed_feed", response.url, exc)
            return
        for url, published in items:
            yield from self._article(url, published, outlet, _asked(response))
        self._remember(response)

    def parse_sitemap(self, response, outlet: Outlet, depth: int):
        if not self._fresh_source(response):
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except Exception as exc:  # a bomb or a broken file: this sitemap fails alone
                self._source_error("malformed_sitemap", response.url, exc)
                return
        try:
            kind, entries = sitemap_entries(body)
        except MalformedSource as exc:
            self._source_error("malformed_sitemap", response.url, exc)
            return
        if kind == "index":
            for loc, lastmod in entries:
                if loc in self._sitemaps_seen or depth + 1 > self.max_depth:
                    continue  # a self-reference, a loop, or too deep
                if self._too_old(lastmod, outlet):
                    continue
                self._sitemaps_seen.add(loc)
                yield self._source(loc, self.parse_sitemap, outlet, depth=depth + 1)
        else:
            for loc, date in entries:
                yield from self._article(loc, date, outlet, _asked(response))
        self._remember(response)

    def parse_section(self, response, outlet: Outlet):
        if not self._fresh_source(response):
            return
        for url in section_links(response.body, response.url, getattr(response, "encoding", "utf-8")):
            yield from self._article(url, None, outlet, _asked(response))
        self._remember(response)

    def _source_failed(self, failure):
        if _robots(failure.value):
            self.run.counts.robots_disallowed += 1
            return
        self._source_error(f"source_{_failure_reason(failure.value)}", failure.request.url, failure.value)

    def _source_error(self, reason: str, url: str, exc) -> None:
        self.logger.warning("%s: %s: %s", reason, url, exc)
        self.run.counts.error(reason)

    # -- articles -----------------------------------------------------------------------------
    def _too_old(self, date: str | None, outlet: Outlet) -> bool:
        when = to_utc(date)
        return when is not None and when < datetime.now(timezone.utc) - timedelta(days=outlet.max_age_days)

    def _article(self, url: str, date: str | None, outlet: Outlet, source: str):
        if urlsplit(url).scheme not in ("http", "https") or not outlet.wants(url):
            return
        if self._too_old(date, outlet):
            self.run.counts.too_old += 1
            return
        key = url_key(url)
        if key in self._scheduled:
            return
        self._scheduled.add(key)
        if self.run.seen(key):
            self.run.counts.already_stored += 1
            return
        yield scrapy.Request(url, self.parse_article, errback=self._article_failed, cb_kwargs={"key": key},
                             meta={"source": source, "wirecrawl_role": "article"})

    def parse_article(self, response, key: str):
        path, offset, date, sha1 = response.meta["archive"]
        content_type = response.headers.get(b"Content-Type")
        yield {"page": Page(fetched_url=response.url, body=response.body,
                            content_type=content_type.decode("latin-1") if content_type else None,
                            fetched_at=iso_utc(date), ref=RawRef(path, offset), status=response.status, body_sha1=sha1),
               "url_key": key}

    def _article_failed(self, failure):
        if _robots(failure.value):
            self.run.counts.robots_disallowed += 1
            return
        # not marked as fetched, and its source keeps no validators: the next run reads it again and retries
        self.run.counts.error(_failure_reason(failure.value))
        self._incomplete.add(failure.request.meta.get("source", ""))

    # -- end ----------------------------------------------------------------------------------
    def _closed(self, spider, reason: str) -> None:
        if self._committer.running:
            self._committer.stop()
        if self.run is None:
            return
        stats = self.crawler.stats
        self.run.counts.requests = stats.get_value("downloader/request_count", 0)
        self.run.counts.bytes = stats.get_value("downloader/response_bytes", 0)
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, reason)
        if status == "finished":
            for url, (etag, modified) in self._validators.items():
                if url not in self._incomplete:
                    self.run.store.set_fetch_state(url, etag, modified)
        counts = self.run.close(status)
        archive = self.settings.get("ARCHIVE_DIR")
        print(format_crawl_summary(counts, status, self.settings.get("STORE_URI"), archive), flush=True)
        self.run = None


def _failure_reason(exc: BaseException) -> str:
    """A short counter name for a failed download."""
    response = getattr(exc, "response", None)
    if response is not None:
        return f"http_{response.status}"
    name = type(exc).__name__
    text = str(exc)
    if "larger than" in text or "maxsize" in text.lower().replace("_", ""):
        return "too_large"
    if "Timeout" in name or "timed out" in text:
        return "timeout"
    return {"DNSLookupError": "dns_error", "ConnectionRefusedError": "connection_refused",
            "IgnoreRequest": "ignored"}.get(name, name)


def _robots(exc: BaseException) -> bool:
    return "robots.txt" in str(exc)


def _asked(response) -> str:
    """The URL a source was requested under (its validators are kept under it, redirects or not)."""
    return response.meta.get("redirect_urls", [response.url])[0]
