"""`scrapy reprocess PATH [PATH ...]`: run stored pages through the core steps into the store."""
from __future__ import annotations

import argparse
import gc
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.forkserver import start_forkserver


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[PATH ...] [--store URI] [--workers N] [--force] [--rebuild-stories] [--fleet REDIS_URL]"

    def short_desc(self) -> str:
        return "Extract, clean and store articles from WARC files, HTML files or folders of both"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--store", metavar="URI", help="store URI (default: the STORE_URI setting)")
        parser.add_argument("--workers", metavar="N", type=int, help="extraction processes (default: one per CPU)")
        parser.add_argument("--force", action="store_true",
                            help="re-extract pages even when their bytes and the extractor are unchanged")
        parser.add_argument("--rebuild-stories", action="store_true",
                            help="recompute every signature, link and story from the stored articles (needed after "
                                 "changing a DEDUP_* setting); PATH may then be omitted")
        parser.add_argument("--fleet", metavar="REDIS_URL",
                            help="run as one worker of a fleet: the input files are shared out among its workers, "
                                 "and the results go to its filer (`scrapy file`)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args and not opts.rebuild_stories:
            raise UsageError("give at least one WARC file, HTML file or directory (or --rebuild-stories)")
        if opts.fleet and (opts.rebuild_stories or not args):
            raise UsageError("a fleet's worker reads input files; --rebuild-stories is the filer's store's (run it without --fleet)")
        if args:
            start_forkserver()   # first: the workers' imports (0.35 s) overlap the main process's own
        # Imported here, after the fork server has started, rather than when Scrapy lists its commands
        from crawler.options import dedup_options, extract_options, run_options
        from pipelines.progress import Progress, format_summary
        from pipelines.fleet.queue import FleetError
        from pipelines.reprocess import NothingToDo, reprocess
        from pipelines.store import StoreError
        from pipelines.stories import DedupParamsMismatch

        try:
            run = run_options(self.settings, opts.store, opts.workers, opts.force)
            extract = extract_options(self.settings)
            counts, status = reprocess(args, run, extract, dedup_options(self.settings), Progress(),
                                       rebuild_stories=opts.rebuild_stories, fleet=opts.fleet,
                                       fleet_claim_s=self.settings.getfloat("FLEET_CLAIM_SECONDS"))
        except (StoreError, FleetError, NothingToDo, DedupParamsMismatch, ValueError) as exc:
            print(f"reprocess: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        summary = format_summary(counts, status, run.store_uri)
        if opts.fleet:   # (a worker sends; its filer stores, and says what was new)
            summary = summary.replace("articles stored:", "articles sent to the filer:").replace(" (new ", " (sent ", 1) \
                .replace(", updated 0,", ",", 1)
        print(summary)
        if status != "finished":
            self.exitcode = 130
        # Everything is stored, closed and printed, and the process ends next: spare the interpreter its last
        # garbage collection over every object it holds (0.15-0.2 s of a run's end, measured).
        gc.freeze()
