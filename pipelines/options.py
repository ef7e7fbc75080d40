"""Typed options: settings enter here, at the edge, once; nothing deeper reads settings."""
from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .steps.boilerplate import RULES


# The steps of extraction that can be switched off one at a time (EXTRACT_STEPS_OFF), to measure what each
# one is worth (bench/extraction.py): a step stays while it gains on some development set and loses on none.
STEPS = (
    "opening",            # standfirst and summary bullets looked for outside the body (steps/opening.py)
    "entry_headlines",    # a live blog's entry headlines put back before their entries
    "declared_body",      # recall mode, then JSON-LD articleBody, when extraction finds far less than declared
    "gate_listing",       # section_page: many headline links and little text
    "gate_login",         # login_wall: a password form or a login title and no body
    "drop_headline",      # the headline removed from the top of the body
    "layout_cells",       # a table row of one cell (a page laid out in tables) given as its text; empty rows dropped
    "title_site",         # a site name removed from the title
    "title_h1_agrees",    # the page's one <h1> taken as the headline only when it agrees with the declared title
    "meta_jsonld",        # JSON-LD as a metadata source
    "meta_tags",          # <meta> tags as a metadata source
    "byline_text",        # authors and agencies from visible byline lines
    "byline_element",     # authors from the element the page marks as its byline, when nothing else names one
    "date_text",          # the published date from a visible time line
    "date_htmldate",      # htmldate as the last source of the published date
) + tuple(f"rule_{name}" for name in (*(name for name, _ in RULES), "caption_credit", "author_bio"))


@dataclass(frozen=True)
class ExtractOptions:
    """Everything that decides what text and metadata a page yields."""
    favor_precision: bool = True
    include_tables: bool = True
    fast: bool = True                   # trafilatura's fast mode first, its full comparison where fast finds little
    min_words: int = 8                  # shorter bodies are "too_short" (not an article)
    max_page_bytes: int = 20_000_000    # larger bodies are "too_large"
    steps_off: tuple[str, ...] = ()     # for measuring only (STEPS)

    def __post_init__(self) -> None:
        unknown = set(self.steps_off) - set(STEPS)
        if unknown:
            raise ValueError(f"EXTRACT_STEPS_OFF: no step named {', '.join(sorted(unknown))}; "
                             f"the steps are {', '.join(STEPS)}")
        object.__setattr__(self, "steps_off", tuple(sorted(set(self.steps_off))))
        if self.min_words < 1:
            raise ValueError(f"EXTRACT_MIN_WORDS must be at least 1, got {self.min_words}")
        if self.max_page_bytes < 1024:
            raise ValueError(f"MAX_PAGE_BYTES must be at least 1024, got {self.max_page_bytes}")

    def on(self, step: str) -> bool:
        return step not in self.steps_off

    def version(self) -> str:
        """Identifies the rules and options that produced a row; a change re-extracts it."""
        rules, trafilatura = _code_versions()
        return f"{rules}+t{trafilatura}+o{_digest(repr(sorted(asdict(self).items())))}"


@dataclass(frozen=True)
class RunOptions:
    """How a reprocess run is carried out (does not change the rows it writes)."""
    store_uri: str
    workers: int
    extract_timeout: float = 30.0
    template_min_articles: int = 3      # a line in this many distinct articles of a host is chrome
    force: bool = False                 # re-extract pages whose bytes and extractor are unchanged

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")
        if self.extract_timeout <= 0:
            raise ValueError(f"EXTRACT_TIMEOUT must be positive, got {self.extract_timeout}")
        if self.template_min_articles < 2:
            raise ValueError(f"TEMPLATE_MIN_ARTICLES must be at least 2, got {self.template_min_articles}")


@dataclass(frozen=True)
class DedupOptions:
    """Everything that decides which articles are one story. All of it is stored with the index: a store
    whose signatures were made with other values refuses to open until its stories are rebuilt."""
    shingle_size: int = 5          # words per shingle
    num_perm: int = 128            # MinHash permutations
    seed: int = 1                  # permutation seed
    hash: str = "xxh32"            # shingle hash function
    scheme: str = "affine32"       # datasketch 2.0 permutation scheme
    lsh_bands: int = 64            # LSH bands x rows: candidates found with high probability from Jaccard 0.2 up
    lsh_rows: int = 2
    jaccard: float = 0.3           # link two articles at this Jaccard similarity of their shingles...
    containment: float = 0.8       # ...or when this share of the shorter one is in the longer one
    containment_min_jaccard: float = 0.2  # ...and the shorter keeps at least this much of the longer
    min_shared: int = 8            # never link on fewer shared shingles than this
    exact_margin: float = 0.1      # estimates this close to a threshold are checked on the stored shingles
    window_days: int = 14          # articles further apart than this in time are never linked

    def __post_init__(self) -> None:
        if self.shingle_size < 1 or self.num_perm < 16 or self.window_days < 1:
            raise ValueError("DEDUP_SHINGLE_SIZE >= 1, DEDUP_NUM_PERM >= 16 and DEDUP_WINDOW_DAYS >= 1 are required")
        if self.lsh_bands * self.lsh_rows > self.num_perm or self.lsh_bands < 2:
            raise ValueError(f"DEDUP_LSH_BANDS x DEDUP_LSH_ROWS must be at most DEDUP_NUM_PERM ({self.num_perm}) "
                             f"with at least 2 bands, got {self.lsh_bands} x {self.lsh_rows}")
        if self.hash != "xxh32" or self.scheme != "affine32":
            raise ValueError("only hash 'xxh32' with scheme 'affine32' is supported")
        for name in ("jaccard", "containment", "containment_min_jaccard"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"DEDUP_{name.upper()} must be in (0, 1], got {getattr(self, name)}")


# The DedupOptions a signature depends on; the others only decide which signatures are linked, so a rebuild
# after changing only those re-files every article from its stored signature (filing.py).
SIGNATURE_PARAMS = ("shingle_size", "num_perm", "seed", "hash", "scheme")


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _rules_version() -> str:
    """A digest of the extraction code itself, so editing a rule re-extracts affected rows."""
    here = Path(__file__).parent
    h = hashlib.sha1()
    for path in sorted(here.joinpath("steps").glob("*.py")) + [here / "article.py"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return "r" + h.hexdigest()[:10]


@functools.cache
def _code_versions() -> tuple[str, str]:
    """The rules' digest and trafilatura's version, made when first asked: the extraction workers import
    this module but never ask, and importlib.metadata alone is 22 ms of their start."""
    from importlib.metadata import version   # not `import trafilatura`: the main process never extracts
    return _rules_version(), version("trafilatura")
