"""Decode: bytes to text, or a reason why the bytes are not an HTML page."""
from __future__ import annotations

from w3lib.encoding import html_to_unicode, http_content_type_encoding, read_bom

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
_MAGIC = {  # content that servers mislabel as text/html
    b"%PDF": "pdf", b"\x89PNG": "image", b"\xff\xd8\xff": "image", b"GIF8": "image",
    b"PK\x03\x04": "zip", b"\x1f\x8b": "gzip", b"RIFF": "media", b"OggS": "media", b"ID3": "media",
}


class NotHtml(Exception):
    """The body is not an HTML document; str() says what it is instead."""


def decode(body: bytes, content_type: str | None) -> str:
    """Return the page as text, with the charset from the BOM, the header or <meta> (w3lib's order)."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and not mime.startswith(_HTML_TYPES):
        raise NotHtml(f"content type {mime}")
    head = body[:8].lstrip()
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            raise NotHtml(f"{kind} body labelled {mime or 'with no type'}")
    if b"\x00" in body[:1024] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotHtml("binary body")
    text = _to_text(body, content_type)
    if "<" not in text[:4096]:
        raise NotHtml("no markup")
    return text


def _to_text(body: bytes, content_type: str | None) -> str:
    """A BOM wins; then bytes that are valid UTF-8 are UTF-8 whatever the header claims (a UTF-8
    page labelled latin-1 is a common server mistake, and valid multi-byte UTF-8 is almost never
    accidental); otherwise the header, then <meta>, then cp1252, which decodes any byte."""
    if read_bom(body)[0] is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            if http_content_type_encoding(content_type) == "utf-8":
                content_type = None  # the header is wrong: fall back to <meta>
    _, text = html_to_unicode(content_type, body, default_encoding="cp1252")
    return text
