"""The records that flow through the core: a fetched page in, an article or a rejection out."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Field order of an exported article (the public contract of `scrapy export`): what extraction gives,
# then the article's place in its story.
ARTICLE_FIELDS = (
    "url", "fetched_url", "canonical_url", "title", "authors", "published", "modified",
    "site_name", "host", "language", "description", "tags", "image", "image_caption",
    "image_credit", "wire_source", "credits", "standfirst", "summary", "text", "fetched_at",
)
STORY_FIELDS = ("story_id", "relation", "similarity", "uncredited")
EXPORT_FIELDS = ARTICLE_FIELDS + STORY_FIELDS


@dataclass(frozen=True)
class RawRef:
    """Where the raw bytes of a page live, so any stored row can be reprocessed."""
    path: str              # absolute path of the WARC or HTML file
    offset: int | None = None  # byte offset of the WARC record; None for a bare file


@dataclass(frozen=True)
class Page:
    """One fetched page as read from an archive, a file or a crawl response."""
    fetched_url: str
    body: bytes
    content_type: str | None
    fetched_at: str            # ISO 8601 UTC
    ref: RawRef
    status: int = 200
    body_sha1: str | None = field(default=None, repr=False, compare=False)  # given when already computed

    def __post_init__(self) -> None:  # hashed once, where the bytes are read (or archived)
        if self.body_sha1 is None:
            object.__setattr__(self, "body_sha1", hashlib.sha1(self.body).hexdigest())


@dataclass
class Article:
    fetched_url: str
    url: str
    canonical_url: str | None
    title: str | None
    authors: list[str]
    published: str | None
    modified: str | None
    site_name: str | None
    host: str | None
    language: str | None
    description: str | None
    tags: list[str]
    image: str | None
    image_caption: str | None
    image_credit: str | None
    wire_source: str | None
    lines: list[str]           # cleaned body paragraphs, before the host's template lines are removed
    fetched_at: str
    removed: dict[str, int] = field(default_factory=dict)  # boilerplate lines removed, by rule
    standfirst: str | None = None   # the dek under the headline: not part of the body, nor of its fingerprint
    summary: list[str] = field(default_factory=list)   # the summary bullets the article opens with
    # what credits an agency, kept as evidence: [{"agency": "AP", "where": "dateline"}, ...], `where` one of
    # dateline, byline, tagline, structured, image (the last credits the photo only)
    credits: list[dict] = field(default_factory=list)
    # Worked out in the extraction worker so the one main process need not (pipelines/workers.py):
    # each line's template key, and each line's hashed words, from which the fingerprint of the text the
    # store keeps (the lines less the host's template lines) is made without reading the text again.
    line_keys: list[str] | None = field(default=None, compare=False, repr=False)
    line_words: Any = field(default=None, compare=False, repr=False)
    # Its body as cleaned for its host's template lines, set by the run just before it is stored
    body: Body | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Rejected:
    """A page that is not stored as an article: `kind` is 'not_article' or 'error'."""
    fetched_url: str
    kind: str
    reason: str
    detail: str
    fetched_at: str | None

    @classmethod
    def not_article(cls, page: Page, reason: str, detail: str = "") -> "Rejected":
        return cls(page.fetched_url, "not_article", reason, detail, page.fetched_at)

    @classmethod
    def error(cls, page: Page, reason: str, detail: str = "") -> "Rejected":
        return cls(page.fetched_url, "error", reason, detail[:500], page.fetched_at)


# -- what the store keeps of an article and of a story ----------------------------------------------
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")


def site_of(host: str) -> str:
    """The host without www., m., amp., mobile.: copies on those are the same site."""
    for p in _HOST_PREFIXES:
        host = host.removeprefix(p)
    return host


@dataclass(frozen=True)
class Body:
    """An article's body as cleaned for its host (steps.templates.HostTemplates.clean): the text, what gives
    its lines back (`left_out`), and what the host's template learning keeps of it; and its title less the
    parts the host's titles share (its site's name, learned from its other articles)."""
    text: str
    left_out: str
    lead: str              # the key of its longest line: which story it tells (templates.lead_key)
    candidates: str        # its template candidate keys (lines' and title parts'), space-separated and sorted
    title: str | None
    extracted_title: str | None   # the title as extracted, when the host's learned parts were cut from it


@dataclass(frozen=True)
class Recleaned:
    """A stored article's text or title cleaned again for its host's new template lines."""
    article: int           # articles.id
    fetched_url: str
    text: str
    left_out: str
    title: str | None
    extracted_title: str | None
    text_changed: bool     # (a title alone changes no story: the article is not filed again)


@dataclass(frozen=True)
class Known:
    """What the store holds of a page: the bytes it was made from and the extractor that made it."""
    body_sha1: str | None
    extractor_version: str


@dataclass(frozen=True)
class Member:
    """A story member as the story logic sees it."""
    fetched_url: str
    host: str
    t: str                # published, else fetched_at (ISO 8601 UTC)
    has_published: bool
    text_hash: str
    id: int               # its article's id in the store (articles.id)

    @property
    def site(self) -> str:
        return site_of(self.host)


@dataclass(frozen=True)
class Arrangement:
    story_id: str
    origin: str
    reason: str
    relations: dict[str, str]   # fetched_url -> origin | syndicated | revision | duplicate


class Signature(NamedTuple):
    """A stored fingerprint as the candidate index reads it (a tuple: the index reads many at once)."""
    id: int
    fetched_url: str
    t: str
    n_shingles: int
    minhash: Any          # np.ndarray of uint32
    article: int          # its article's id (articles.id)
