"""A story's origin and every member's relation to it: a pure function of the members, so the
result never depends on the order in which pages arrived."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..steps.wire import HOST_LABELS as _WIRE_LABELS
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")


@dataclass(frozen=True)
class Member:
    fetched_url: str
    host: str
    t: str                # published, else fetched_at (ISO 8601 UTC)
    has_published: bool
    text_hash: str
    id: int               # its article's id in the store (articles.id)

    @property
    def wire_own(self) -> bool:
        """Is this the agency's own copy (its host is a wire's site)?"""
        labels = self.host.split(".")[:-1]
        return bool(labels) and labels[-1] in _WIRE_LABELS

    @property
    def site(self) -> str:
        return site_of(self.host)

    def rank(self) -> tuple:
        return (self.t, not self.wire_own, self.fetched_url)


@dataclass(frozen=True)
class Arrangement:
    story_id: str
    origin: str
    reason: str
    relations: dict[str, str]   # fetched_url -> origin | syndicated | revision | duplicate


def site_of(host: str) -> str:
    """The host without www., m., amp., mobile.: copies on those are the same site."""
    for p in _HOST_PREFIXES:
        host = host.removeprefix(p)
    return host


def story_id(origin_url: str) -> str:
    return "s" + hashlib.sha1(origin_url.encode()).hexdigest()[:16]


def arrange(members: list[Member]) -> Arrangement:
    ranked = sorted(members, key=Member.rank)
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
    if origin.wire_own and not second.wire_own:
        return f"wire's own copy, tied on earliest {basis}"
    return f"tied on earliest {basis}, first by URL"
