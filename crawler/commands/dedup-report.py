"""`scrapy dedup-report -o FILE`: which stories were syndicated where, who was first, how fast it spread."""
from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.report import DEFAULT_MAX_STORIES, ReportError, build, report_format, write
from crawler.options import store_uri
from pipelines.store import ERRORS, NoStore, StoreError, open_store


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return ("-o FILE [--store URI] [--since DATE] [--until DATE] [--min-copies N] [--host HOST] [--max-stories N] "
                "[--sources PATH]")

    def short_desc(self) -> str:
        return ("Write the syndicated stories to FILE (.json, .csv with one row per member, ...network.csv with one "
                "row per pair of outlets, or an .html page)")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="output file; its extension picks the format")
        parser.add_argument("--store", metavar="URI", help="store URI (default: the STORE_URI setting)")
        parser.add_argument("--since", metavar="DATE", help="only stories first published on or after DATE (ISO, UTC)")
        parser.add_argument("--until", metavar="DATE", help="only stories first published on or before DATE (ISO, UTC)")
        parser.add_argument("--min-copies", metavar="N", type=int, default=1,
                            help="only stories with at least N copies besides the origin (default 1)")
        parser.add_argument("--host", metavar="HOST", help="only stories with a copy or origin on HOST (or its subdomains)")
        parser.add_argument("--max-stories", metavar="N", type=int, default=DEFAULT_MAX_STORIES,
                            help=f"HTML only: show the N largest stories (default {DEFAULT_MAX_STORIES}); "
                                 "the page says how many it left out")
        parser.add_argument("--sources", metavar="PATH",
                            help="the outlet list whose names name the outlets (default: the SOURCES setting; "
                                 "outlets it does not list are named by host)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not opts.output:
            raise UsageError("-o FILE is required")
        uri, hint = store_uri(self.settings, opts.store)
        try:
            fmt = report_format(opts.output)
            store = open_store(uri, read_only=True)
        except (ReportError, StoreError) as exc:
            print(f"dedup-report: {exc}{hint if isinstance(exc, NoStore) else ''}", file=sys.stderr)
            self.exitcode = 2
            return
        try:
            report = build(store.stories(), uri, opts.since, opts.until, opts.min_copies, opts.host,
                           _outlet_names(opts.sources or self.settings.get("SOURCES")))
            if fmt == "html":
                from pipelines.report import page  # matplotlib and jinja2: loaded only for the page

                n = page.write(report, store.stories(), opts.output, opts.max_stories)
            else:
                n = write(report, opts.output)
        except ERRORS as exc:  # a damaged store
            print(f"dedup-report: {store.failure(exc, 'read')}", file=sys.stderr)
            self.exitcode = 2
            return
        except (ReportError, OSError) as exc:  # OSError: the file cannot be written (nothing half-written is left)
            print(f"dedup-report: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        finally:
            store.close()
        t = report["totals"]
        left_out = len(report["stories"]) - n
        more = f"; {left_out} more left out, see --max-stories" if left_out else ""
        print(f"dedup report: {_n(n, 'story', 'stories')} written to {opts.output}{more} "
              f"({_n(t['articles'], 'article')} in {_n(t['stories'], 'story', 'stories')}; "
              f"{_n(t['syndicated_stories'], 'syndicated story', 'syndicated stories')}, "
              f"{_n(t['copies'], 'syndicated copy', 'syndicated copies')})", file=sys.stderr)


def _outlet_names(path: str | None) -> dict[str, str]:
    """Outlet names by site, from the outlet list (none when it cannot be read: outlets are then named by host)."""
    from crawler.outlets import OutletsError, load_outlets
    from pipelines.model import site_of

    try:
        outlets = load_outlets(path) if path else []
    except OutletsError:
        return {}
    return {site_of(h.split(":")[0] if h.count(":") == 1 else h): o.name for o in outlets for h in sorted(o.hosts)}


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"
