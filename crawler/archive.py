"""Rotating WARC files of everything a crawl receives (request and response records, gzip per record),
so `scrapy reprocess ARCHIVE_DIR` rebuilds the same store. A killed crawl leaves at most one cut record
at the end of its last file (which reprocess reports as bad_record); every run writes new files."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path

from isal import igzip  # ISA-L's gzip: the same format as zlib's, about 5x less CPU at level 1


class ArchiveError(Exception):
    """The archive cannot be written (a full disk, a read-only folder); the message says where and what to do."""


class WarcArchive:
    def __init__(self, folder: Path, max_bytes: int, gzip_level: int = 1):
        self.folder = folder
        self.max_bytes = max_bytes
        self.gzip_level = gzip_level   # ISA-L levels are 0-3; 1 is its default, ~10 % larger than zlib's 9
        self._out = None
        self._path: Path | None = None
        self._seq = 0
        self.bytes_written = 0
        self._failed: str | None = None   # once a write fails, every later one fails alike

    def write(self, url: str, method: str, request_headers: list[tuple[str, str]], status: int, reason: str,
              headers: list[tuple[str, str]], body: bytes, role: str = "article") -> tuple[str, int, str, str]:
        """Append a request and a response record, the response marked with what the crawl fetched it as
        (`WARC-Wirecrawl-Role`: article, source or robots, so reprocess counts only articles as pages);
        returns (file, response record offset, WARC-Date, the body's SHA-1 in hex), the digest so that
        nothing hashes the body a second time. Raises ArchiveError when the archive cannot be written: the
        page then goes unstored (no row may point at a record that is not there)."""
        if self._failed is not None:
            raise ArchiveError(self._failed)
        try:
            return self._write_pair(url, method, request_headers, status, reason, headers, body, role)
        except OSError as exc:
            self._failed = (f"cannot write the archive in {self.folder} ({exc.strerror or exc}): free space there "
                            "(or set ARCHIVE_DIR) and run again; the pages not archived are fetched by the next run")
            try:
                self.close()
            except OSError:
                self._out = None
            raise ArchiveError(self._failed) from exc

    def _write_pair(self, url: str, method: str, request_headers: list[tuple[str, str]], status: int, reason: str,
                    headers: list[tuple[str, str]], body: bytes, role: str) -> tuple[str, int, str, str]:
        self._open_for(len(body))
        date = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        self._write("request", url, date, _http_head(f"{method} {url} HTTP/1.1", request_headers), b"")
        offset = self._out.tell()
        digest = self._write("response", url, date, _http_head(f"HTTP/1.1 {status} {reason}".strip(), headers), body,
                             role)
        self._out.flush()
        self.bytes_written = self._out.tell()
        return str(self._path), offset, date, digest.hex()

    def _write(self, kind: str, url: str, date: str, http_head: bytes, payload: bytes, role: str = "") -> bytes:
        """One record as its own gzip member (so a reader can seek to any record's offset), with the
        payload and block SHA-1 digests that warcio would write; returns the payload's digest."""
        payload_digest = hashlib.sha1(payload).digest()
        block = hashlib.sha1(http_head)
        block.update(payload)
        warc_head = (
            "WARC/1.0\r\n"
            f"WARC-Type: {kind}\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\n"
            f"WARC-Target-URI: {url}\r\n"
            f"WARC-Date: {date}\r\n"
            f"WARC-Payload-Digest: sha1:{_b32(payload_digest)}\r\n"
            f"WARC-Block-Digest: sha1:{_b32(block.digest())}\r\n"
            + (f"WARC-Wirecrawl-Role: {role}\r\n" if role else "") +
            f"Content-Type: application/http; msgtype={kind}\r\n"
            f"Content-Length: {len(http_head) + len(payload)}\r\n\r\n"
        ).encode("utf-8")
        self._out.write(igzip.compress(b"".join((warc_head, http_head, payload, b"\r\n\r\n")), self.gzip_level))
        return payload_digest

    def _open_for(self, size: int) -> None:
        if self._out is not None and self._out.tell() + size > self.max_bytes:
            self.close()
        if self._out is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self._seq += 1
            name = f"wirecrawl-{stamp}-{_HOST}-{os.getpid()}-{self._seq:04d}.warc.gz"   # (unique in a shared folder)
            self._path = (self.folder / name).resolve()
            self._out = open(self._path, "xb")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


_HOST = re.sub(r"[^A-Za-z0-9.-]+", "_", socket.gethostname())[:40] or "host"


def _http_head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    """The HTTP status (or request) line and headers, as received (they were decoded as Latin-1)."""
    lines = [first_line] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _b32(digest: bytes) -> str:
    return base64.b32encode(digest).decode("ascii")
