"""Typed options: settings enter here, at the edge, once; nothing deeper reads settings."""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from importlib.metadata import version as _package_version
from pathlib import Path


@dataclass(frozen=True)
class ExtractOptions:
    """Everything that decides what text and metadata a page yields."""
    favor_precision: bool = True
    include_tables: bool = True
    min_words: int = 8                  # shorter bodies are "too_short" (not an article)
    max_page_bytes: int = 20_000_000    # larger bodies are "too_large"

    def __post_init__(self) -> None:
        if self.min_words < 1:
            raise ValueError(f"EXTRACT_MIN_WORDS must be at least 1, got {self.min_words}")
        if self.max_page_bytes < 1024:
            raise ValueError(f"MAX_PAGE_BYTES must be at least 1024, got {self.max_page_bytes}")

    def version(self) -> str:
        """Identifies the rules and options that produced a row; a change re-extracts it."""
        return f"{RULES_VERSION}+t{_TRAFILATURA}+o{_digest(repr(sorted(asdict(self).items())))}"


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


RULES_VERSION = _rules_version()
_TRAFILATURA = _package_version("trafilatura")  # without importing it: the main process never extracts
