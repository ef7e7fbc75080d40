"""Read pages from WARC files (ours, Common Crawl's): HTTP `response` records, nothing else."""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType

from ..model import Page, RawRef
from .base import BadRecord, Skipped, iso_utc

_MAX_DECODED = 64 * 1024 * 1024  # a compressed body never inflates past this (bombs)


def read_warc(path: Path) -> Iterator[Page | BadRecord | Skipped]:
    path = path.resolve()
    try:
        stream = open(path, "rb")
    except OSError as exc:
        yield BadRecord(f"warc:{path}", RawRef(str(path)), "unreadable_file", str(exc))
        return
    with stream:
        records = ArchiveIterator(stream, parse_http=False)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except Exception as exc:  # fastwarc raises on some malformed headers
                yield BadRecord(f"warc:{path}", RawRef(str(path)), "bad_record", f"unreadable record: {exc}")
                return
            yield _page(path, record)


def _page(path: Path, record) -> Page | BadRecord | Skipped:
    ref = RawRef(str(path), record.stream_pos)
    url = record.headers.get("WARC-Target-URI") or f"warc:{path}#{record.stream_pos}"
    if record.record_type != WarcRecordType.response:
        return Skipped(url, "not_a_response_record")
    block = record.reader.read()
    if len(block) < record.content_length:
        return BadRecord(url, ref, "bad_record", f"truncated record: {len(block)} of {record.content_length} bytes")
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        return Skipped(url, "not_http")  # dns:, whois: and other non-HTTP responses
    status, headers = _parse_head(head)
    if not 200 <= status < 300:
        return Skipped(url, f"http_{status}")
    try:
        body = _decode_transfer(body, headers)
    except ValueError as exc:
        return BadRecord(url, ref, "bad_record", str(exc))
    return Page(fetched_url=url, body=body, content_type=headers.get("content-type"),
                fetched_at=iso_utc(record.headers.get("WARC-Date")), ref=ref, status=status)


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return status, headers


def _decode_transfer(body: bytes, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    encoding = headers.get("content-encoding", "").lower().strip()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS)
            body = inflater.decompress(body, _MAX_DECODED)
        except zlib.error as exc:
            raise ValueError(f"bad {encoding} body: {exc}") from exc
        if inflater.unconsumed_tail:
            raise ValueError(f"{encoding} body inflates past {_MAX_DECODED} bytes")
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported content-encoding {encoding}")
    return body


def _dechunk(body: bytes) -> bytes:
    out, pos = bytearray(), 0
    while pos < len(body):
        end = body.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(body[pos:end].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += body[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
    return bytes(out)
