"""Progress while a run goes (a bar on a terminal, log lines otherwise) and the summary at its end."""
from __future__ import annotations

import sys
import time
from typing import TextIO

_LOG_EVERY_S = 10.0


class Progress:
    def __init__(self, stream: TextIO = sys.stderr, bar: bool | None = None):
        self.stream = stream
        self.started = time.monotonic()
        self._last_log = self.started
        self._bar = None
        if bar if bar is not None else stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(file=stream, unit=" pages", dynamic_ncols=True, mininterval=0.5)

    def update(self, counts, **more: int) -> None:
        """(`more`: other figures to show, such as a filer's results waiting)"""
        articles = counts.articles["new"] + counts.articles["updated"] + counts.articles["unchanged"]
        fields = dict(articles=articles, not_articles=sum(counts.not_articles.values()), errors=sum(counts.errors.values()),
                      **more)
        if self._bar is not None:
            self._bar.update(counts.pages - self._bar.n)
            self._bar.set_postfix(fields, refresh=False)
            return
        now = time.monotonic()
        if now - self._last_log >= _LOG_EVERY_S:
            self._last_log = now
            rate = counts.pages / (now - self.started)
            print(f"[wirecrawl] {counts.pages} pages, {rate:.1f} pages/s, "
                  + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in fields.items()), file=self.stream, flush=True)

    def say(self, message: str) -> None:
        """One line for the user (a file passed over), above the bar when there is one."""
        if self._bar is not None:
            self._bar.write(f"[wirecrawl] {message}", file=self.stream)
        else:
            print(f"[wirecrawl] {message}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_summary(counts, status: str, store_uri: str) -> str:
    a = counts.articles
    lines = [
        f"reprocess {status}: {counts.pages} pages in {counts.elapsed_s:.1f} s ({counts.pages_per_s:.1f} pages/s)",
        f"  articles stored: {sum(a.values())} (new {a['new']}, updated {a['updated']}, unchanged {a['unchanged']})",
        f"  not articles: {sum(counts.not_articles.values())}{by_reason(counts.not_articles)}",
        f"  errors: {sum(counts.errors.values())}{by_reason(counts.errors)}",
    ]
    if counts.inputs_skipped:
        lines.append(f"  inputs skipped: {sum(counts.inputs_skipped.values())}{by_reason(counts.inputs_skipped)}")
    if counts.skipped:
        lines.append(f"  records skipped: {sum(counts.skipped.values())}{by_reason(counts.skipped)}")
    if counts.removed_lines:
        lines.append(f"  boilerplate lines removed: {sum(counts.removed_lines.values())}{by_reason(counts.removed_lines)}")
    if counts.template_updates:
        lines.append(f"  articles re-cleaned with learned host template lines: {counts.template_updates}")
    st = counts.stories
    if st:
        lines.append(f"  stories: {_stories(st)}; this run filed {_n(st.get('filed', 0), 'article', 'articles')}, "
                     f"{st.get('stories_joined', 0)} joined a story")
    lines.append(f"  store: {store_uri}")
    return "\n".join(lines)


def by_reason(by: dict[str, int]) -> str:
    if not by:
        return ""
    return " (" + ", ".join(f"{k} {v}" for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))) + ")"


def format_crawl_summary(c, status: str, store_uri: str, archive: str, fleet: str | None = None) -> str:
    """A crawl's summary; a fleet's worker (`fleet`, its Redis URL) sends its articles to the filer, which
    stores and files them."""
    a = c.articles
    st = c.stories
    elsewhere = f"{c.fetched_elsewhere} held by other workers, " if fleet else ""
    lines = [
        f"crawl {status}: {c.requests} requests, {c.bytes / 1e6:.1f} MB in {c.elapsed_s:.1f} s",
        f"  articles stored: {sum(a.values())} (new {a['new']}, updated {a['updated']}, unchanged {a['unchanged']}); "
        f"{st.get('stories_joined', 0)} joined a story",
        f"  not articles: {sum(c.not_articles.values())}{by_reason(c.not_articles)}",
        f"  errors: {sum(c.errors.values())}{by_reason(c.errors)}",
        f"  skipped before fetching: {c.already_stored} already stored, {elsewhere}{c.too_old} too old, "
        f"{c.robots_disallowed} disallowed by robots.txt; "
        f"{c.not_modified} sources not modified (304)",
        f"  stories: {_stories(st)}",
        f"  store: {store_uri}; archive: {archive}",
    ]
    if fleet:
        lines[1] = f"  articles sent to the filer: {a['new'] + a['updated']}"
        lines[5] = f"  fleet: {fleet}; store (filed by the filer): {store_uri}; archive: {archive}"
        del lines[6]
    return "\n".join(lines)


def _stories(st: dict) -> str:
    """"12 (4 syndicated, with 12 syndicated copies; 4 revisions or duplicates)": a syndicated copy is a member
    on another outlet than its story's origin, as in the dedup report."""
    return (f"{st.get('stories', 0)} ({_n(st.get('syndicated_stories', 0), 'syndicated story', 'syndicated stories')} "
            f"with {_n(st.get('copies', 0), 'syndicated copy', 'syndicated copies')}; "
            f"{_n(st.get('other_versions', 0), 'revision or duplicate', 'revisions or duplicates')})")


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
