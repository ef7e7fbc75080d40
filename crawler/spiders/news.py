"""`scrapy crawl news [-a sources=PATH]`: fetch what is new from each outlet's feeds, news sitemaps and
section pages, and hand every article page to the item pipelines (extract, store, file into a story).
With FLEET_REDIS, a worker of a fleet: it crawls the outlets it leases and sends its results to the filer."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.gz import gunzip
from twisted.internet.task import LoopingCall

from crawler.discover import MalformedSource, feed_items, section_links, sitemap_entries, to_utc
from crawler.options import dedup_options, extract_options
from crawler.outlets import Outlet, OutletsError, load_outlets
from crawler.share import AllOutlets, LeasedOutlets
from crawler.urls import url_key
from pipelines.fleet.queue import FleetError
from pipelines.fleet.worker import FleetWorker
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
        self.run: Ingest | FleetWorker | None = None
        self.share: AllOutlets | LeasedOutlets | None = None
        self._scheduled: set[str] = set()
        self._sitemaps_seen: set[str] = set()
        self._validators: dict[str, tuple[str | None, str | None]] = {}   # kept when their outlet is finished
        self._incomplete: set[str] = set()   # sources with an article that failed: no validators kept
        self._open: dict[str, int] = {}   # per outlet: its requests and items not finished yet
        self._sources_of: dict[str, set[str]] = {}   # per outlet: the sources it asked for
        self._last_progress = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        path = spider.sources_path or settings.get("SOURCES")
        fleet = settings.get("FLEET_REDIS")
        try:
            spider.outlets = load_outlets(path)          # a bad list fails before anything is fetched
            if fleet:
                spider.run = FleetWorker(fleet, settings.get("STORE_URI"), extract_options(settings),
                                         claim_s=settings.getfloat("FLEET_CLAIM_SECONDS"), blocking=False)
                at_once = settings.getint("FLEET_OUTLETS") or (settings.getint("CONCURRENT_REQUESTS")
                                                               // settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
                spider.share = LeasedOutlets(spider.outlets, spider.run, at_once)
            else:
                spider.run = Ingest(settings.get("STORE_URI"), "crawl", extract_options(settings),
                                    dedup_options(settings), settings.getint("TEMPLATE_MIN_ARTICLES"),
                                    {"sources": str(path)})
                spider.share = AllOutlets(spider.outlets)
        except (OutletsError, StoreError, FleetError, DedupParamsMismatch, ValueError, OSError) as exc:
            print(f"crawl: {exc}", file=sys.stderr)
            crawler.wirecrawl_exit = 2
            spider.outlets = []
            return spider
        spider.max_depth = settings.getint("SITEMAP_MAX_DEPTH")
        spider._committer = LoopingCall(spider._commit)   # stored pages are committed a quarter second at a time
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        return spider

    def _opened(self, spider) -> None:
        self._committer.start(0.25, now=False)

    def _commit(self) -> None:
        if self.run is not None:
            self._progress()
            try:
                self.run.commit()
                self._pace()
            except StoreError as exc:   # those pages are not marked fetched: the next run fetches them again
                self.run.counts.error("commit_failed")
                if isinstance(exc, (StoreFull, StoreDamaged, StoreReadOnly)):
                    self.fail(str(exc))
                else:
                    self.logger.error("could not commit stored pages (the next run fetches them again): %s", exc)

    def _pace(self) -> None:
        """A fleet's worker pauses its downloads while the stream holds more results than the filer keeps up
        with (nothing is trimmed away), and goes on when it has caught up."""
        if isinstance(self.run, FleetWorker):
            engine = self.crawler.engine
            if self.run.backlogged():
                engine.pause()
            elif engine.paused:
                engine.unpause()

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
        try:
            taken = self.share.take()
        except StoreError as exc:
            self.fail(str(exc))
            return
        for outlet in taken:
            for request in self._outlet(outlet):
                yield request

    def _outlet(self, outlet: Outlet) -> list[scrapy.Request]:
        requests = [self._source(url, self.parse_feed, outlet) for url in outlet.feeds]
        self._sitemaps_seen.update(outlet.sitemaps)
        requests += [self._source(url, self.parse_sitemap, outlet, depth=0) for url in outlet.sitemaps]
        requests += [self._source(url, self.parse_section, outlet) for url in outlet.sections]
        return requests

    # -- outlets: finished when every request and item of theirs is ------------------------------
    def _done(self, outlet: Outlet) -> None:
        """One request or item of this outlet finished (a source read, an article stored, a download failed)."""
        if self.run is None or outlet.name not in self._open:
            return
        self._open[outlet.name] -= 1
        if self._open[outlet.name] == 0:
            self._finished(outlet, whole=True)

    def _finished(self, outlet: Outlet, whole: bool) -> None:
        """Keep the validators of its sources (after the pages they listed: committed with them, or later),
        unless one of its articles failed; a fleet's worker lets the outlet go and takes the next one."""
        del self._open[outlet.name]
        for url in sorted(self._sources_of.pop(outlet.name, ())):
            if whole and url in self._validators and url not in self._incomplete:
                self.run.keep_fetch_state(url, *self._validators.pop(url))
        try:
            self.share.finished(outlet)
            for nxt in self.share.take():
                for request in self._outlet(nxt):
                    self.crawler.engine.crawl(request)
        except StoreError as exc:
            self.fail(str(exc))

    def item_stored(self, item: dict) -> None:
        self._done(item["outlet"])

    def _dropped(self, request, spider=None) -> None:
        """A request the scheduler refused (a duplicate): it is finished too."""
        outlet = request.cb_kwargs.get("outlet")
        if outlet is not None:
            if "key" in request.cb_kwargs:
                self.run.release_url(request.cb_kwargs["key"])
            self._done(outlet)

    def _idle(self, spider=None) -> None:
        """Nothing left to fetch: every outlet counted as open is finished (not whole: its validators are not
        kept, so the next run reads it in full); a fleet's worker takes the outlets left, and waits while
        other workers' outlets may still come to it (their worker may die), then until the filer has filed
        all it sent (sending it again if Redis restarted empty)."""
        if self.run is None or getattr(self.crawler, "wirecrawl_exit", 0):
            return
        for name in list(self._open):
            self._finished(next(o for o in self.outlets if o.name == name), whole=False)
        try:
            if self._open or self.share.waiting():
                for outlet in self.share.take():
                    for request in self._outlet(outlet):
                        self.crawler.engine.crawl(request)
                raise DontCloseSpider
            if isinstance(self.run, FleetWorker):   # done once the filer has filed what it sent
                self.run.commit()
                if not self.run.filed():
                    raise DontCloseSpider
        except StoreError as exc:
            self.fail(str(exc))

    # -- sources ------------------------------------------------------------------------------
    def _source(self, url: str, callback, outlet: Outlet, **kwargs) -> scrapy.Request:
        """A conditional request for a feed, sitemap or section page (ETag / Last-Modified of last time)."""
        self._open[outlet.name] = self._open.get(outlet.name, 0) + 1
        self._sources_of.setdefault(outlet.name, set()).add(url)
        etag, modified = self.run.fetch_state(url)
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
        try:
            yield from self._feed(response, outlet)
        finally:
            self._done(outlet)

    def _feed(self, response, outlet: Outlet):
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
        try:
            yield from self._sitemap(response, outlet, depth)
        finally:
            self._done(outlet)

    def _sitemap(self, response, outlet: Outlet, depth: int):
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
        try:
            if not self._fresh_source(response):
                return
            for url in section_links(response.body, response.url, getattr(response, "encoding", "utf-8")):
                yield from self._article(url, None, outlet, _asked(response))
            self._remember(response)
        finally:
            self._done(outlet)

    def _source_failed(self, failure):
        try:
            if _robots(failure.value):
                self.run.counts.robots_disallowed += 1
                return
            self._source_error(f"source_{_failure_reason(failure.value)}", failure.request.url, failure.value)
        finally:
            self._done(failure.request.cb_kwargs["outlet"])

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
        if not self.run.claim_url(key):   # (another worker of the fleet fetches it)
            return
        self._open[outlet.name] += 1
        yield scrapy.Request(url, self.parse_article, errback=self._article_failed,
                             cb_kwargs={"key": key, "outlet": outlet},
                             meta={"source": source, "wirecrawl_role": "article"})

    def parse_article(self, response, key: str, outlet: Outlet):
        path, offset, date, sha1 = response.meta["archive"]
        content_type = response.headers.get(b"Content-Type")
        yield {"page": Page(fetched_url=response.url, body=response.body,
                            content_type=content_type.decode("latin-1") if content_type else None,
                            fetched_at=iso_utc(date), ref=RawRef(path, offset), status=response.status, body_sha1=sha1),
               "url_key": key, "outlet": outlet}

    def _article_failed(self, failure):
        request = failure.request
        try:
            self.run.release_url(request.cb_kwargs["key"])
            if _robots(failure.value):
                self.run.counts.robots_disallowed += 1
                return
            # not marked as fetched, and its source keeps no validators: the next run reads it again and retries
            self.run.counts.error(_failure_reason(failure.value))
            self._incomplete.add(request.meta.get("source", ""))
        except StoreError as exc:
            self.fail(str(exc))
        finally:
            self._done(request.cb_kwargs["outlet"])

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
        try:
            counts = self.run.close(status)
        except StoreError as exc:   # (the fleet's Redis gone at the end: what was sent is filed)
            self.run = None
            if not getattr(self.crawler, "wirecrawl_exit", 0):
                print(f"crawl: {exc}", file=sys.stderr, flush=True)
                self.crawler.wirecrawl_exit = 2
            return
        archive = self.settings.get("ARCHIVE_DIR")
        print(format_crawl_summary(counts, status, self.settings.get("STORE_URI"), archive,
                                   self.settings.get("FLEET_REDIS")), flush=True)
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
