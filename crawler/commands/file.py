"""`scrapy file --fleet URL [--store URI] [--until-idle SECONDS]`: the fleet's filer, the one writer of the store."""
from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "--fleet REDIS_URL [--store URI] [--until-idle SECONDS]"

    def short_desc(self) -> str:
        return "Store and file the results of a fleet's workers (the one writer of the store)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--fleet", metavar="REDIS_URL", help="the fleet's Redis (redis://HOST:PORT/DB)")
        parser.add_argument("--store", metavar="URI", help="store URI (default: the STORE_URI setting)")
        parser.add_argument("--until-idle", metavar="SECONDS", type=float,
                            help="stop once no result has come and no worker has been alive for this long "
                                 "(default: run until SIGTERM)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not opts.fleet:
            raise UsageError("--fleet REDIS_URL is required")
        from crawler.options import dedup_options, extract_options, run_options
        from pipelines.fleet.filer import file_results
        from pipelines.fleet.queue import FleetError
        from pipelines.progress import Progress, format_summary
        from pipelines.store import StoreError
        from pipelines.stories import DedupParamsMismatch

        try:
            run = run_options(self.settings, opts.store, 1)
            counts, status = file_results(opts.fleet, run, extract_options(self.settings), dedup_options(self.settings),
                                          Progress(), until_idle=opts.until_idle)
        except (StoreError, FleetError, DedupParamsMismatch, ValueError) as exc:
            print(f"file: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        print(format_summary(counts, status, run.store_uri).replace("reprocess finished", "filing finished"))
