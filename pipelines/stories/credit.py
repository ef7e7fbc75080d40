"""Uncredited wire copy: a copy of a wire's story whose own text does not credit that wire.

The rule, in full:
- A story has a *wire origin* when its origin is a wire's own copy (its host is an agency's site) or its
  origin's text credits an agency (a dateline, a byline, a tagline or structured data; a photo credit
  credits the photo only). The story's wires are those agencies.
- Each member on another site than the origin's (a syndicated copy, and that outlet's own revisions and
  duplicates of it) is *uncredited* when none of its own text credits names one of the story's wires,
  else credited. Members on the origin's site, and every member of a story without a wire origin, are
  neither (None).
- A partial rewrite (a copy that keeps part of the wire's text and adds its own reporting) is still wire
  copy once it has joined the story: matching decided that it carries the wire's text, and the report
  shows how much of it it kept, so a reader can set a threshold of their own.
"""
from __future__ import annotations

from ..model import site_of
from ..steps.wire import host_agency

TEXT_PLACES = ("dateline", "byline", "tagline", "structured")   # "image" credits the photo, not the text


def text_agencies(credits: list[dict]) -> set[str]:
    return {c["agency"] for c in credits if c["where"] in TEXT_PLACES}


def wires_of(origin_host: str | None, origin_credits: list[dict]) -> set[str]:
    """The agencies a story's origin stands for: its own site's, and those its text credits."""
    own = host_agency(origin_host or "")
    return text_agencies(origin_credits) | ({own} if own else set())


def uncredited(origin_host: str | None, origin_credits: list[dict], host: str | None,
               credits: list[dict]) -> bool | None:
    """True for wire copy whose text credits none of the story's wires, False for credited wire copy, None
    for a member on the origin's site or in a story without a wire origin."""
    if site_of(host or "") == site_of(origin_host or ""):
        return None
    wires = wires_of(origin_host, origin_credits)
    if not wires:
        return None
    return not (text_agencies(credits) & wires)


def with_uncredited(items):
    """The stored articles (Store.iter_articles) with `uncredited` set from their story's origin."""
    for item in items:
        origin_host, origin_credits = item.pop("origin_host", None), item.pop("origin_credits", [])
        item["uncredited"] = (uncredited(origin_host, origin_credits, item["host"], item["credits"])
                              if item.get("story_id") else None)
        yield item
