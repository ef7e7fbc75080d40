"""`scrapy export -o FILE`: the stored articles as JSON Lines, JSON or CSV."""
from __future__ import annotations

import argparse
import os
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.options import store_uri
from pipelines.export import ExportError, export_format, write
from pipelines.store import ERRORS, NoStore, StoreError, open_store
from pipelines.stories.credit import with_uncredited


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "-o FILE [--store URI]"

    def short_desc(self) -> str:
        return "Write the stored articles to FILE (.jsonl, .json or .csv; - for JSON Lines on stdout)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="output file; its extension picks the format")
        parser.add_argument("--store", metavar="URI", help="store URI (default: the STORE_URI setting)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not opts.output:
            raise UsageError("-o FILE is required")
        uri, hint = store_uri(self.settings, opts.store)
        try:
            export_format(opts.output)
            store = open_store(uri, read_only=True)
        except (ExportError, StoreError) as exc:
            print(f"export: {exc}{hint if isinstance(exc, NoStore) else ''}", file=sys.stderr)
            self.exitcode = 2
            return
        try:
            n = write(with_uncredited(store.iter_articles()), opts.output)
        except ERRORS as exc:  # a damaged store: nothing half-written is left
            print(f"export: {store.failure(exc, 'read')}", file=sys.stderr)
            self.exitcode = 2
            return
        except BrokenPipeError:   # `export -o - | head`: the reader has what it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open until exit: the last flush must not fail again)
            return
        except OSError as exc:  # the file cannot be written (nothing half-written is left)
            print(f"export: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        finally:
            store.close()
        if opts.output != "-":
            print(f"exported {n} articles to {opts.output}", file=sys.stderr)
