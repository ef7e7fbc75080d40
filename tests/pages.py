"""Small real-shaped pages and WARC files the tests build (nothing here is asserted on directly)."""
from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PARAGRAPHS = [
    "WASHINGTON (AP) — The Senate voted 68-31 on Tuesday to approve a bipartisan bill that would expand "
    "broadband access in rural areas, sending the measure to the House after months of negotiations.",
    "The bill sets aside $42 billion for grants to states, which would be required to prioritize "
    "communities where fewer than half of homes can get high-speed service, according to the text.",
    "Supporters said the plan would close a gap that widened during the pandemic, when schools and "
    "clinics moved online and millions of families found they could not keep up.",
    "Opponents argued the grants duplicated existing programs and would be slow to reach the places "
    "that need them most, pointing to earlier efforts that took years to break ground.",
]


def article_html(title: str = "Senate passes rural broadband bill", paragraphs=PARAGRAPHS, extra_head: str = "",
                 chrome: str = "<p>Advertisement</p>", site: str = "Example News") -> str:
    body = "\n".join(f"<p>{p}</p>" + (chrome if i == 1 else "") for i, p in enumerate(paragraphs))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | {site}</title><meta property="og:type" content="article">
<meta property="og:site_name" content="{site}">{extra_head}</head>
<body><nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
<article><h1>{title}</h1><p class="byline">By Jane Doe</p>{body}</article>
<footer>© 2025 {site}</footer></body></html>"""


def nested_tables_html(size: int = 10_000_000) -> str:
    cell = "<table><tr><td>" * 40 + "cell text here with several words in it" + "</td></tr></table>" * 40
    return "<html><body><h1>Tables</h1>" + cell * (size // len(cell)) + "</body></html>"


def write_warc(path: Path, records: list[tuple[str, bytes, dict]], with_requests: bool = True,
               date: str = "2025-03-01T12:00:00Z") -> Path:
    """records: (url, body, http headers) written as WARC response records (and request records), fetched at `date`."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        for url, body, headers in records:
            if with_requests:
                req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example")], is_http_request=True)
                writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=req))
            status = headers.pop("_status", "200 OK")
            http = StatusAndHeaders(status, list(headers.items()), protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict={"WARC-Date": date}))
    return path
