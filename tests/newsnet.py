"""A local news network for crawl tests: real HTTP servers on 127.0.0.1, one port per outlet, each with
its robots.txt, feeds or sitemaps or section pages, article pages, and the faults a crawler meets."""
from __future__ import annotations

import gzip
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


_next_ip = iter(range(2, 250))


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: a crawler opening 8 connections at once to one host lost SYNs to
    # it and waited out the kernel's 1 s retransmit, a stall that was the test server's, not the crawler's.
    request_queue_size = 128
    daemon_threads = True


class Outlet:
    """One host (its own 127.0.0.x address): path -> handler(request) returning (status, headers, body).
    Counts every request, and the most it was answering at once (`max_active`); answers nothing until
    `gate` is set (it is from the start)."""

    def __init__(self):
        self.routes: dict = {}
        self.hits: dict[str, int] = {}
        self.active = self.max_active = 0
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()
        ip = f"127.0.0.{next(_next_ip)}"
        self.server = _Server((ip, 0), self._handler())
        self.base = f"http://{ip}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200,
             headers: dict | None = None):
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = lambda req: (status, {"Content-Type": content_type, **(headers or {})}, data)

    def route(self, path: str, handler):
        self.routes[path] = handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path
                with outlet._lock:
                    outlet.hits[path] = outlet.hits.get(path, 0) + 1
                    outlet.active += 1
                    outlet.max_active = max(outlet.max_active, outlet.active)
                try:
                    self._answer(path)
                finally:
                    with outlet._lock:
                        outlet.active -= 1

            def _answer(self, path):
                outlet.gate.wait(600)
                handler = outlet.routes.get(path)
                if handler is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, body = handler(self)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        return Handler


def rss(items: list[tuple[str, str, datetime]]) -> str:
    entries = "".join(f"<item><title>{t}</title><link>{u}</link><pubDate>{format_datetime(d)}</pubDate></item>"
                      for u, t, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>{entries}</channel></rss>'


def news_sitemap(items: list[tuple[str, datetime]]) -> str:
    urls = "".join(f"<url><loc>{u}</loc><news:news><news:publication_date>{d.isoformat()}</news:publication_date>"
                   f"</news:news></url>" for u, d in items)
    return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')


def conditional(body: str, etag: str, content_type: str = "application/rss+xml"):
    """A handler answering 304 when the client already has this ETag."""
    def handler(req):
        if req.headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": content_type, "ETag": etag}, body.encode()
    return handler


def flaky(body: str, failures: int, status: int = 500, headers: dict | None = None):
    """Answers `status` the first `failures` times, then the page."""
    state = {"n": 0}

    def handler(req):
        state["n"] += 1
        if state["n"] <= failures:
            return status, {"Content-Type": "text/plain", **(headers or {})}, b"try later"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode()
    return handler


def slow(seconds: float, body: str = "<html><body>late</body></html>"):
    def handler(req):
        time.sleep(seconds)
        return 200, {"Content-Type": "text/html"}, body.encode()
    return handler


class Held:
    """A handler that answers only once the test releases it: `requested` is set when a request arrives,
    and the answer waits for `release` (an event, not a duration), so a run is caught mid-way for certain."""

    def __init__(self, body: str, content_type: str = "application/rss+xml"):
        self.requested = threading.Event()
        self.release = threading.Event()
        self.body, self.content_type = body.encode(), content_type

    def __call__(self, req):
        self.requested.set()
        self.release.wait(600)
        return 200, {"Content-Type": self.content_type}, self.body


def gzip_bomb(size: int):
    blob = gzip.compress(b"\0" * size, compresslevel=9)
    return lambda req: (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, blob)


def ago(hours: float) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=hours)
