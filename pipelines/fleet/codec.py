"""A page's extraction result as it travels from a worker to the filer: JSON (no code runs on decoding,
whoever wrote the stream). The line words a worker hashed for the fingerprint stay behind: the filer signs
the stored text itself."""
from __future__ import annotations

import dataclasses
import json
from typing import NamedTuple

from ..model import Article, RawRef, Rejected
from ..store import Saving

_DROPPED = {"line_words", "body"}
_ARTICLE_FIELDS = [f.name for f in dataclasses.fields(Article) if f.name not in _DROPPED]
_REJECTED_FIELDS = [f.name for f in dataclasses.fields(Rejected)]


class FetchState(NamedTuple):
    """A crawled source's validators (ETag, Last-Modified), sent after the results of its articles."""
    url: str
    etag: str | None
    last_modified: str | None


def encode_fetch_state(url: str, etag: str | None, last_modified: str | None) -> bytes:
    return json.dumps({"kind": "fetch_state", "url": url, "etag": etag, "last_modified": last_modified},
                      ensure_ascii=False).encode("utf-8", "surrogatepass")


def encode(s: Saving) -> bytes:
    r = s.result
    if isinstance(r, Article):
        kind, fields = "article", {k: getattr(r, k) for k in _ARTICLE_FIELDS}
    else:
        kind, fields = "rejected", {k: getattr(r, k) for k in _REJECTED_FIELDS}
    return json.dumps({"kind": kind, "fields": fields, "ref": [s.ref.path, s.ref.offset], "body_sha1": s.body_sha1,
                       "version": s.version, "url_key": s.url_key}, ensure_ascii=False).encode("utf-8", "surrogatepass")


def decode(data: bytes) -> Saving | FetchState:
    """The result; ValueError for one that is not a result of this version of the codec."""
    try:
        d = json.loads(data.decode("utf-8", "surrogatepass"))
        if d["kind"] == "fetch_state":
            if not isinstance(d["url"], str):
                raise TypeError("a fetch state without a URL")
            return FetchState(d["url"], d["etag"], d["last_modified"])
        cls = {"article": Article, "rejected": Rejected}[d["kind"]]
        result = cls(**d["fields"])
        return Saving(result, RawRef(*d["ref"]), d["body_sha1"], d["version"], d["url_key"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a wirecrawl result ({exc})") from None
