"""A story's origin and every member's relation to it: a pure function of the members, so the
result never depends on the order in which pages arrived."""
from __future__ import annotations

import hashlib

from ..model import Arrangement, Member, site_of  # noqa: F401 (site_of: used by the report bench)
from ..steps.wire import HOST_LABELS as _WIRE_LABELS


def wire_own(m: Member) -> bool:
    """Is this the agency's own copy (its host is a wire's site)?"""
    labels = m.host.split(".")[:-1]
    return bool(labels) and labels[-1] in _WIRE_LABELS


def rank(m: Member) -> tuple:
    return (m.t, not wire_own(m), m.fetched_url)


def story_id(origin_url: str) -> str:
    return "s" + hashlib.sha1(origin_url.encode()).hexdigest()[:16]


def arrange(members: list[Member]) -> Arrangement:
    ranked = sorted(members, key=rank)
    origin = ranked[0]
    relations = {origin.fetched_url: "origin"}
    texts, hosts = {(origin.text_hash, origin.site)}, {origin.host}   # what the earlier members were
    for m in ranked[1:]:
        if (m.text_hash, m.site) in texts:
            relations[m.fetched_url] = "duplicate"
        elif m.host in hosts:
            relations[m.fetched_url] = "revision"
        else:
            relations[m.fetched_url] = "syndicated"
        texts.add((m.text_hash, m.site))
        hosts.add(m.host)
    return Arrangement(story_id(origin.fetched_url), origin.fetched_url, _reason(ranked), relations)


def _reason(ranked: list[Member]) -> str:
    origin = ranked[0]
    basis = "published" if origin.has_published else "fetched (no published date)"
    if len(ranked) == 1:
        return "only copy"
    second = ranked[1]
    if origin.t < second.t:
        return f"earliest {basis}"
    if wire_own(origin) and not wire_own(second):
        return f"wire's own copy, tied on earliest {basis}"
    return f"tied on earliest {basis}, first by URL"
