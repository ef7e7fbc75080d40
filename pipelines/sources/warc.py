"""Read pages from WARC files (ours, Common Crawl's): HTTP `response` records, nothing else."""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType

from ..model import Page, RawRef
from .base import BadRecord, Skipped, iso_utc, path_text

_MAX_DECODED = 64 * 1024 * 1024  # a compressed body never inflates past this (bombs)
_MAX_RECORD = 1 << 32             # a record larger than 4 GiB is a broken length, not a page


def read_warc(path: Path) -> Iterator[Page | BadRecord | Skipped]:
    """The file's records as pages. A record that cannot be read is a BadRecord, and reading goes on at the
    next record after it (the next gzip member, or the next "WARC/1." line of an uncompressed file), so one
    corrupt record in a Common Crawl file does not lose the thousands after it."""
    path = path.resolve()
    name = path_text(path)
    try:
        stream = open(path, "rb")
    except OSError as exc:
        yield BadRecord(f"warc:{name}", RawRef(name), "unreadable_file", exc.strerror or str(exc))
        return
    magic = _GZIP_MAGIC if path.name.lower().endswith(".gz") else _WARC_MAGIC
    with stream:
        start, last = 0, -1   # where this pass began; the offset of the last record read whole
        while True:
            stream.seek(start)
            try:
                for record in ArchiveIterator(stream, parse_http=False):
                    page = _page(name, record)
                    if isinstance(page, _Overlong):   # its Content-Length ran past the records after it
                        break
                    last = record.stream_pos
                    yield page
                else:
                    return
                damaged = record.stream_pos
                resume = _next_record(stream, magic, damaged + 1)
                yield BadRecord(page.url, RawRef(name, damaged), "bad_record", f"{page.detail}; " + _resumes(resume))
                if resume is None:
                    return
                start = resume
                continue
            except Exception as exc:  # fastwarc raises on corrupt gzip data and malformed headers
                damaged = last + 1 if last >= start else start
                where = f"after the record at byte {last}" if last >= start else f"at byte {start}"
                resume = _next_record(stream, magic, damaged + 1 if damaged == start else damaged)
                yield BadRecord(f"warc:{name}#{damaged}", RawRef(name, damaged), "bad_record",
                                f"unreadable data {where}: {exc}; " + _resumes(resume))
                if resume is None:
                    return
                start = resume


def _next_record(stream, magic: bytes, offset: int) -> int | None:
    """The offset of the next whole record at or after `offset`, or None."""
    resume = _find(stream, magic, offset)
    while resume is not None and not _readable(stream, resume):
        resume = _find(stream, magic, resume + 1)
    return resume


def _resumes(resume: int | None) -> str:
    return f"reading resumes at byte {resume}" if resume is not None else "nothing readable after it"


def _readable(stream, offset: int) -> bool:
    """Does a whole record, as long as it says it is, start at this offset?"""
    stream.seek(offset)
    try:
        record = next(iter(ArchiveIterator(stream, parse_http=False)))
        length = record.content_length
        return length <= _MAX_RECORD and len(record.reader.read()) >= length
    except Exception:  # noqa: BLE001 (whatever fastwarc raises: not a record)
        return False


_GZIP_MAGIC = b"\x1f\x8b\x08"   # each record of a .warc.gz is its own gzip member
_WARC_MAGIC = b"WARC/1."


def _find(stream, magic: bytes, offset: int) -> int | None:
    """The offset of the next `magic` at or after `offset` in the file, or None."""
    stream.seek(offset)
    carry = b""
    while chunk := stream.read(1 << 20):
        found = (carry + chunk).find(magic)
        if found >= 0:
            return offset - len(carry) + found
        offset += len(chunk)
        carry = chunk[-(len(magic) - 1):]
    return None


@dataclass(frozen=True)
class _Overlong:
    """A record whose block is shorter than its Content-Length: the file ends inside it, or (one flipped bit
    in the length) it claims the records after it. Either way reading resumes at the next whole record."""
    url: str
    detail: str


def _page(name: str, record) -> Page | BadRecord | Skipped | _Overlong:
    ref = RawRef(name, record.stream_pos)
    url = record.headers.get("WARC-Target-URI") or f"warc:{name}#{record.stream_pos}"
    length = record.content_length
    if length > _MAX_RECORD:
        return _Overlong(url, f"broken record: it declares a Content-Length of {length} bytes")
    if record.record_type != WarcRecordType.response:
        return Skipped(url, "not_a_response_record")
    role = record.headers.get("WARC-Wirecrawl-Role")
    if role not in (None, "article"):   # a crawl's robots.txt, feeds, sitemaps and section pages
        return Skipped(url, f"crawl_{role}")
    block = record.reader.read()
    if len(block) < length:
        return _Overlong(url, f"record shorter than its Content-Length ({len(block)} of {length} bytes: truncated, or a broken length)")
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
