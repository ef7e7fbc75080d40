"""The crawl's WARC writer: records that independent readers (fastwarc, warcio) parse, with digests that verify."""
from __future__ import annotations

import hashlib

from fastwarc.warc import ArchiveIterator as FastIterator
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from crawler.archive import WarcArchive


def test_records_parse_and_their_digests_verify(tmp_path):
    archive = WarcArchive(tmp_path, max_bytes=10_000_000)
    body = "<html><body><p>Café — “quoted”</p></body></html>".encode()
    pages = [("https://a.example/story?id=1", body), ("https://b.example/empty", b"")]
    written = [archive.write(url, "GET", [("User-Agent", "wirecrawl")], 200, "", [("Content-Type", "text/html; charset=utf-8"),
                             ("ETag", '"x"')], payload) for url, payload in pages]
    archive.close()
    (path,) = {w[0] for w in written}

    with open(path, "rb") as f:
        assert all(rec.verify_block_digest() for rec in FastIterator(f, parse_http=False))
    seen = []
    with open(path, "rb") as f:
        for rec in FastIterator(f, parse_http=True):
            kind = rec.headers["WARC-Type"]
            seen.append(kind)
            if kind == "response":
                url, payload = pages[len(seen) // 2 - 1]
                assert rec.stream_pos == written[len(seen) // 2 - 1][1]
                assert rec.headers["WARC-Target-URI"] == url and rec.http_headers.status_code == 200
                assert rec.http_headers["ETag"] == '"x"'
                assert rec.verify_payload_digest()
                assert rec.reader.read() == payload
    assert seen == ["request", "response"] * 2
    assert [w[3] for w in written] == [hashlib.sha1(payload).hexdigest() for _, payload in pages]  # reused as body_sha1
    with open(path, "rb") as f:  # a second, independent reader agrees on every byte
        got = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
               for r in WarcioIterator(f) if r.rec_type == "response"]
    assert got == pages
