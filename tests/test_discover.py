"""Discovery over hostile XML: entity tricks in feeds and sitemaps are never resolved."""
from __future__ import annotations

import pytest

from crawler.discover import MalformedSource, feed_items, sitemap_entries

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
"""


def test_a_feed_with_entities_is_refused_not_expanded():
    feed = LAUGHS + b"""<rss version="2.0"><channel><title>&lol4;</title>
<item><title>x</title><link>https://news.example/a</link></item></channel></rss>"""
    with pytest.raises(MalformedSource, match="entities"):
        feed_items(feed, "https://news.example/feed.xml")


def test_sitemap_entities_stay_unresolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    external = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/a&xxe;</loc></url></urlset>""".encode()
    assert sitemap_entries(external) == ("urlset", [("https://news.example/a", None)])  # the file is not read
    laughs = LAUGHS.replace(b"lolz", b"urlset") + b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/&lol4;</loc></url></urlset>"""
    assert sitemap_entries(laughs) == ("urlset", [("https://news.example/", None)])  # nothing expanded
