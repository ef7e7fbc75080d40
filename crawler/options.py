"""Scrapy settings -> typed wirecrawl options, once, at the edge."""
from __future__ import annotations

from scrapy.settings import BaseSettings

from pipelines.options import DedupOptions, ExtractOptions, RunOptions, default_workers


def extract_options(settings: BaseSettings) -> ExtractOptions:
    return ExtractOptions(
        favor_precision=settings.getbool("EXTRACT_FAVOR_PRECISION"),
        include_tables=settings.getbool("EXTRACT_INCLUDE_TABLES"),
        fast=settings.getbool("EXTRACT_FAST"),
        min_words=settings.getint("EXTRACT_MIN_WORDS"),
        max_page_bytes=settings.getint("MAX_PAGE_BYTES"),
        steps_off=tuple(settings.getlist("EXTRACT_STEPS_OFF")),
    )


def run_options(settings: BaseSettings, store: str | None = None, workers: int | None = None,
                force: bool = False) -> RunOptions:
    return RunOptions(
        store_uri=store or settings.get("STORE_URI"),
        workers=workers or settings.getint("EXTRACT_WORKERS") or default_workers(),
        extract_timeout=settings.getfloat("EXTRACT_TIMEOUT"),
        template_min_articles=settings.getint("TEMPLATE_MIN_ARTICLES"),
        force=force,
    )


def dedup_options(settings: BaseSettings) -> DedupOptions:
    return DedupOptions(
        shingle_size=settings.getint("DEDUP_SHINGLE_SIZE"),
        num_perm=settings.getint("DEDUP_NUM_PERM"),
        seed=settings.getint("DEDUP_SEED"),
        lsh_bands=settings.getint("DEDUP_LSH_BANDS"),
        lsh_rows=settings.getint("DEDUP_LSH_ROWS"),
        jaccard=settings.getfloat("DEDUP_JACCARD"),
        containment=settings.getfloat("DEDUP_CONTAINMENT"),
        containment_min_jaccard=settings.getfloat("DEDUP_CONTAINMENT_MIN_JACCARD"),
        min_shared=settings.getint("DEDUP_MIN_SHARED"),
        exact_margin=settings.getfloat("DEDUP_EXACT_MARGIN"),
        window_days=settings.getint("DEDUP_WINDOW_DAYS"),
    )


def store_uri(settings: BaseSettings, given: str | None) -> tuple[str, str]:
    """The store URI a command uses, and what to add to a "no store" message: for the default (a path
    relative to the working directory), where it was looked for."""
    if given:
        return given, ""
    return settings.get("STORE_URI"), "; run from the project folder (where scrapy.cfg is) or pass --store URI"
