"""The Scrapy item pipelines of a crawl: thin shells over the core, so a crawl and a `reprocess` of its
archive give the same rows. An item is {"page": Page, "url_key": str}.

- ExtractPipeline: decode, extract, strip boilerplate, metadata (pipelines.article.process_page) in the
  process pool, with its per-page time limit, so the crawl never waits on a slow page.
- StorePipeline: store the article or the not-article with its reason, then file the article into its
  story (MinHash syndication detection), through the run the spider holds (pipelines.ingest, as `reprocess` does;
  a fleet's worker sends it to the filer instead).
"""
from __future__ import annotations

import asyncio

from .store import StoreError
from .workers import ExtractionPool


class ExtractPipeline:
    def __init__(self, pool: ExtractionPool):
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.options import dedup_options, extract_options, run_options  # settings enter at the edge
        run = run_options(crawler.settings)
        return cls(ExtractionPool(run.workers, run.extract_timeout, extract_options(crawler.settings),
                                  dedup_options(crawler.settings)))

    def open_spider(self) -> None:
        self.pool.__enter__()

    def close_spider(self) -> None:
        self.pool.__exit__(None, None, None)

    async def process_item(self, item: dict) -> dict:
        future = self.pool.submit(item["page"])
        try:
            await asyncio.wrap_future(future)
        except Exception:  # the outcome below turns a timeout or a crash into a reason (a cancellation propagates)
            pass
        item["outcome"] = self.pool.outcome(item["page"], future)
        return item


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: dict) -> dict:
        spider = self.crawler.spider
        if spider.run is not None:
            try:
                spider.run.save(item["page"], item["outcome"], item["url_key"])
            except StoreError as exc:   # (cleaning reads the host's template lines) fetched again by the next run
                spider.run.counts.error("store_failed")
                spider.fail(str(exc))
            spider.item_stored(item)   # (its outlet is finished when all its items are)
        outcome = item["outcome"]
        return {"url": item["page"].fetched_url, "outcome": type(outcome).__name__,
                "reason": getattr(outcome, "reason", None)}
