"""`scrapy crawl`, exiting with status 2 when a wirecrawl run could not start (a bad outlet list, another
crawl running on the store, an unusable store) instead of Scrapy's 0."""
from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from pipelines.forkserver import start_forkserver


class Command(ScrapyCrawl):
    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name (wirecrawl's is `news`)")
        assert self.crawler_process
        start_forkserver()   # the extraction workers' imports overlap Scrapy's start
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        if getattr(crawler, "wirecrawl_exit", 0):
            self.exitcode = crawler.wirecrawl_exit
