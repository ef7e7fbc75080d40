"""`scrapy crawl`, exiting with status 2 when a wirecrawl run could not start (a bad outlet list, another
crawl running on the store, an unusable store) instead of Scrapy's 0."""
from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from pipelines.forkserver import start_forkserver


class Command(ScrapyCrawl):
    def syntax(self) -> str:
        return "news [-a sources=PATH] [-s STORE_URI=URI] [-s ARCHIVE_DIR=DIR] [-s CONTACT=EMAIL] [-L INFO]"

    def long_desc(self) -> str:
        return ("Fetch what is new from the outlets of seeds/sources.toml (feeds, news sitemaps, section pages),\n"
                "archive every response to WARC, extract and store each article and file it into its story.\n\n"
                "  -a sources=PATH        the outlet list (default: the SOURCES setting, seeds/sources.toml)\n"
                "  -s STORE_URI=URI       the store (default sqlite:///data/wirecrawl.sqlite)\n"
                "  -s ARCHIVE_DIR=DIR     where the WARC files go (default data/archive/)\n"
                "  -s CONTACT=EMAIL       how sites can reach you; sent in the User-Agent (set it)\n"
                "  -s FLEET_REDIS=URL     crawl as one worker of a fleet whose filer (scrapy file) stores\n"
                "                         the results (README: Running a fleet)\n"
                "  -L INFO                Scrapy's own log too (by default: warnings, progress, the summary)\n\n"
                "Exit status 2 when the run cannot start (a bad outlet list, another run on the store, an\n"
                "unusable store) or when the store fails during it.")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        # the description above keeps its lines (Scrapy's formatter would run them together)
        parser.formatter_class = type("Formatter", (argparse.RawDescriptionHelpFormatter, parser.formatter_class), {})

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name (wirecrawl's is `news`)")
        assert self.crawler_process
        names = self.crawler_process.spider_loader.list()
        if args[0] not in names:
            print(f"crawl: no spider named {args[0]!r}; wirecrawl's is {' or '.join(map(repr, names))} "
                  "(scrapy crawl news)", file=sys.stderr)
            self.exitcode = 2
            return
        start_forkserver()   # the extraction workers' imports overlap Scrapy's start
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        if getattr(crawler, "wirecrawl_exit", 0):
            self.exitcode = crawler.wirecrawl_exit
