"""One key per article URL, so the same article is fetched once: tracking parameters, fragments, AMP and
mobile variants removed."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src|smid|"
                       r"taid|icid|ito|_ga|__twitter_impression|output[tT]ype|amp|outputtype)$")
_HOST_PREFIX = re.compile(r"^(www|m|mobile|amp)\.")


def url_key(url: str) -> str:
    """The canonical form of an article URL (for "already fetched?", never for fetching)."""
    parts = urlsplit(url.strip())
    host = _HOST_PREFIX.sub("", parts.netloc.lower())
    path = re.sub(r"/amp/?$|/amp(?=/)", "", parts.path) or "/"
    path = re.sub(r"\.amp\.html$", ".html", path)
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)))
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme, host, path.rstrip("/") or "/", query, ""))
