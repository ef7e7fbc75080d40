"""Downloader middlewares that replace Scrapy's own for speed must decide exactly as Scrapy's do."""
from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares import HeadMetaRefreshMiddleware

URL = "https://news.example/story"


def page(head: str, size: int, pad: int = 0, declared: bool = True) -> HtmlResponse:
    """An HTML page of at least `size` bytes of multibyte text, `pad` ASCII bytes shifting where characters fall."""
    filler = "Ünïcödé — “text” " * (size // 20)
    body = f"<html><head>{head}</head><body>{'x' * pad}<p>{filler}</p></body></html>".encode()
    return HtmlResponse(URL, body=body, headers={"Content-Type": "text/html" + ("; charset=utf-8" if declared else "")})


def inside_a_character(head: str) -> HtmlResponse:
    """A page in undeclared UTF-8 whose byte 16,384 (where the middleware cuts) is inside a character."""
    for pad in range(4):
        response = page(head, 40_000, pad, declared=False)
        if response.body[HeadMetaRefreshMiddleware._HEAD] & 0xC0 == 0x80:
            return response
    raise AssertionError("no padding puts the cut inside a character")


def decisions(response: HtmlResponse):
    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    ours = HeadMetaRefreshMiddleware.from_crawler(crawler).process_response(Request(URL), response)
    scrapys = MetaRefreshMiddleware.from_crawler(crawler).process_response(Request(URL), response)
    return ours, scrapys


def test_a_meta_refresh_in_a_large_page_is_followed_as_scrapy_would():
    for response in (page('<meta http-equiv="refresh" content="0; url=/login?next=%2Fstory">', 200_000),
                     page('<meta http-equiv="refresh" content="0;URL=\'https://accounts.example/sign-in\'">', 40_000),
                     inside_a_character('<meta http-equiv="refresh" content="0; url=/ü-login">')):
        assert len(response.body) > HeadMetaRefreshMiddleware._HEAD
        ours, scrapys = decisions(response)
        assert isinstance(scrapys, Request)
        assert isinstance(ours, Request) and ours.url == scrapys.url and ours.method == "GET"


def test_a_page_without_one_comes_back_whole():
    response = page('<meta charset="utf-8"><title>Story</title>', 200_000)
    ours, scrapys = decisions(response)
    assert ours is response and scrapys is response
    assert len(ours.body) > 100_000   # the spider gets every byte, not the head that was looked at
    slow = page('<meta http-equiv="refresh" content="600; url=/later">', 50_000)  # past METAREFRESH_MAXDELAY
    ours, scrapys = decisions(slow)
    assert ours is slow and scrapys is slow
