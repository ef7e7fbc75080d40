"""Downloader middlewares: archive every response to WARC, obey robots.txt strictly, honour Retry-After,
follow meta refreshes without decoding whole pages, and (a fleet's worker) hold each host for itself while
it fetches from it."""
from __future__ import annotations

import asyncio
import sys
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.asyncio import call_later

from pipelines.store import StoreError

from .archive import ArchiveError, WarcArchive

_HOP_HEADERS = {b"content-encoding", b"transfer-encoding", b"content-length"}


class ArchiveMiddleware:
    """Writes each response, as the spider will see it (decompressed), with its request to the WARC
    archive, and tells the spider where (request.meta['archive'] = (file, offset, WARC-Date))."""

    def __init__(self, archive: WarcArchive, crawler):
        self.archive = archive
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        archive = getattr(crawler, "wirecrawl_archive", None)
        if archive is None:  # one archive per crawl, shared with RedirectArchiveMiddleware
            archive = WarcArchive(Path(crawler.settings.get("ARCHIVE_DIR")), crawler.settings.getint("ARCHIVE_MAX_BYTES"))
            crawler.wirecrawl_archive = archive
            crawler.signals.connect(archive.close, signal=signals.spider_closed)
        return cls(archive, crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if self._wanted(response):
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items()
                       if k.lower() not in _HOP_HEADERS for v in vs]
            headers.append(("Content-Length", str(len(response.body))))
            req_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs]
            try:
                request.meta["archive"] = self.archive.write(response.url, request.method, req_headers,
                                                             response.status, "", headers, response.body, _role(request))
            except ArchiveError as exc:   # a full disk: the crawl stops, saying so once; this page is not stored
                self.crawler.spider.fail(str(exc))
                raise IgnoreRequest(str(exc)) from None
            # (path, offset, date, sha1)
            self.crawler.stats.set_value("wirecrawl/archive_bytes", self.archive.bytes_written)
        return response

    def _wanted(self, response: Response) -> bool:
        return not 300 <= response.status < 400


def _role(request: Request) -> str:
    """What the crawl fetched this as: an article (the spider marks its article requests), robots.txt, or a
    source (a feed, a sitemap, a section page)."""
    if request.meta.get("wirecrawl_role") == "article":
        return "article"
    return "robots" if urlsplit(request.url).path == "/robots.txt" else "source"


class RedirectArchiveMiddleware(ArchiveMiddleware):
    """Redirects never reach the archive middleware above (the redirect middleware turns them into new
    requests first), so this one, placed before it, archives just them."""

    def _wanted(self, response: Response) -> bool:
        return 300 <= response.status < 400


class _DisallowAll:
    def allowed(self, url, user_agent) -> bool:
        return False


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RFC 9309: a robots.txt that fails (5xx, a network error, an HTML error page) means "disallow for
    now", not "allow all" as Scrapy has it. A 4xx still means no rules."""

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        html = response.headers.get(b"Content-Type", b"").startswith(b"text/html") and b"<html" in response.body[:2048].lower()
        if response.status >= 500 or response.status == 429 or (response.status == 200 and html):
            self._stats.inc_value("wirecrawl/robots_disallow_for_now")
            self._settle(netloc, _DisallowAll())
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self._stats.inc_value("wirecrawl/robots_disallow_for_now")
        self._settle(netloc, _DisallowAll())

    def _settle(self, netloc: str, parser) -> None:
        pending = self._parsers[netloc]
        self._parsers[netloc] = parser
        if hasattr(pending, "callback"):
            pending.callback(parser)


class RetryAfterMiddleware:
    """A 429 or 503 with Retry-After holds that host for that long (capped): its download slot dispatches
    nothing more until then, requests already queued in it included, and a request that reaches the slot
    later waits here first (a slot left idle may be dropped and made anew). Scrapy's retry middleware then
    retries the request, which waits like the others."""

    def __init__(self, cap: float, crawler=None):
        self.cap = cap
        self.crawler = crawler
        self.hold: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("RETRY_AFTER_MAX"), crawler)

    async def process_request(self, request: Request, spider=None) -> None:
        until = self.hold.get(urlsplit(request.url).netloc)
        if until and until > time.monotonic():
            await asyncio.sleep(until - time.monotonic())

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status in (429, 503):
            wait = _retry_after(response.headers.get(b"Retry-After"))
            if wait is not None:
                wait = min(wait, self.cap)
                host = urlsplit(request.url).netloc
                self.hold[host] = max(self.hold.get(host, 0), time.monotonic() + wait)
                self._hold_slot(request, self.hold[host] - time.monotonic())
        return response

    def _hold_slot(self, request: Request, wait: float) -> None:
        """Stop the host's download slot for `wait` seconds the way its own download delay does: a pending
        call that resumes its queue (Scrapy's downloader dispatches nothing from a slot that has one)."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        slot = downloader.slots.get(downloader.get_slot_key(request)) if downloader is not None else None
        if slot is None:
            return
        if slot.latercall:
            slot.latercall.cancel()
        slot.latercall = call_later(wait, downloader._latercall, slot)


def _retry_after(value: bytes | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, looked for in the page's first 16 KB only. Scrapy's own middleware
    decodes the whole body to read its first 4,096 characters: ~1 ms a page in the crawl's one main process,
    for text nothing else uses (the extraction workers decode the bytes themselves)."""

    _HEAD = 16_384   # bytes: at least the 4,096 characters Scrapy looks at, whatever the encoding

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        body = response.body
        if not isinstance(response, HtmlResponse) or len(body) <= self._HEAD:
            return super().process_response(request, response)
        # A cut inside a character changes nothing: the URL is re-encoded in the encoding it was decoded with.
        result = super().process_response(request, response.replace(body=body[:self._HEAD]))
        return response if isinstance(result, Response) else result


class NoLocalSchemes:
    """Never fetch file:, data: or ftp: URLs, whatever a feed or a redirect says."""

    def process_request(self, request: Request, spider=None) -> None:
        if urlsplit(request.url).scheme not in ("http", "https"):
            raise IgnoreRequest(f"scheme not fetched: {request.url[:60]}")


class ContactUserAgent:
    """Every request, robots.txt included, says who we are and how to reach the operator (CONTACT)."""

    def __init__(self, user_agent: str):
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler):
        contact = (crawler.settings.get("CONTACT") or "").strip()
        if not contact:
            print("crawl: warning: CONTACT is not set, so the User-Agent tells the sites no way to reach you; "
                  "set it in crawler/settings.py or with -s CONTACT=you@example.org", file=sys.stderr, flush=True)
            return cls("wirecrawl/0.1")
        return cls(f"wirecrawl/0.1 (+{contact})")

    def process_request(self, request: Request, spider=None) -> None:
        request.headers[b"User-Agent"] = self.user_agent


class FleetHosts:
    """Politeness across a fleet: a worker fetches from a host only while it holds that host's lease in the
    fleet's Redis, so the per-host limits (CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY, a Retry-After)
    hold whatever the number of workers, and robots.txt is read by one worker at a time. The lease is taken
    just before the download (the last of the middlewares) and let go when the worker has no request to
    that host in flight, after the download delay (or the Retry-After) has passed; meanwhile another
    worker's requests for the host wait here."""

    _POLL_S = 0.1

    def __init__(self, crawler, delay_s: float, retry_after_max: float):
        self.crawler = crawler
        self.delay_s = delay_s
        self.retry_after_max = retry_after_max
        self.active: dict[str, int] = {}   # requests in flight per host, lease held

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("FLEET_REDIS"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat("DOWNLOAD_DELAY"), crawler.settings.getfloat("RETRY_AFTER_MAX"))

    async def process_request(self, request: Request, spider=None) -> None:
        run = self.crawler.spider.run
        if run is None:
            return
        host = urlsplit(request.url).netloc.lower()
        try:
            while host not in self.active and not run.lease("host", host):
                await asyncio.sleep(self._POLL_S)   # another worker is on this host
        except StoreError as exc:
            self.crawler.spider.fail(str(exc))
            raise IgnoreRequest(str(exc)) from None
        self.active[host] = self.active.get(host, 0) + 1
        request.meta["wirecrawl_host"] = host

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        hold = 0.0
        if response.status in (429, 503):
            hold = min(_retry_after(response.headers.get(b"Retry-After")) or 0.0, self.retry_after_max)
        self._finished(request, hold)
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        self._finished(request, 0.0)

    def _finished(self, request: Request, hold: float) -> None:
        host = request.meta.pop("wirecrawl_host", None)
        if host is None:
            return
        self.active[host] -= 1
        if self.active[host] > 0:
            return
        del self.active[host]
        run = self.crawler.spider.run
        if run is not None:
            try:
                run.let_go("host", host, after_s=max(self.delay_s, hold))
            except StoreError as exc:
                self.crawler.spider.fail(str(exc))
