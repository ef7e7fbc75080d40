"""The extraction process pool: CPU-bound work off the main process, with a per-page time limit
that kills a stuck worker (pebble) instead of waiting on it forever.

A worker also does the per-article work the main process would otherwise do alone: each line's
template key and hashed words (of which the main process makes the fingerprint of the text it stores).
The main process, one for all workers, is what limits a run, so what it can be spared is worth moving."""
from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.context
import multiprocessing.popen_forkserver
import multiprocessing.spawn
from concurrent.futures import FIRST_COMPLETED, TimeoutError, wait
from typing import Callable, Iterator

from pebble import ProcessExpired, ProcessPool

from .forkserver import start_forkserver
from .model import Article, Page, Rejected
from .options import DedupOptions, ExtractOptions
from .sources import BadRecord, HtmlFile, read_html_file
from .steps.templates import line_keys
from .stories.fingerprint import Signer

_TASKS_PER_WORKER = 500  # recycle workers so no library cache grows without bound


_signers: dict = {}


class _Popen(multiprocessing.popen_forkserver.Popen):
    """The fork server's Popen, except that the new worker does not first import the parent's main module,
    as multiprocessing has it do: under `scrapy reprocess` or `scrapy crawl` that is Scrapy, 0.2 s of CPU
    per worker (and per recycled worker) before its first page. Nothing a worker runs lives in it."""

    def _launch(self, process_obj):
        prepare = multiprocessing.spawn.get_preparation_data

        def without_main(name):
            data = prepare(name)
            data.pop("init_main_from_name", None)
            data.pop("init_main_from_path", None)
            return data
        multiprocessing.spawn.get_preparation_data = without_main   # only pebble's manager thread starts workers
        try:
            super()._launch(process_obj)
        finally:
            multiprocessing.spawn.get_preparation_data = prepare


class _WorkerProcess(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _WorkerContext(multiprocessing.context.ForkServerContext):
    Process = _WorkerProcess


def _warm_up() -> None:
    from . import article  # noqa: F401  (import the extractor once per worker, before its first page)


def _process(page: Page, options: ExtractOptions, dedup: DedupOptions | None = None) -> Article | Rejected:
    """Runs in a worker. Importing the extractor here keeps it (and trafilatura) out of the main process."""
    from .article import process_page

    outcome = process_page(page, options)
    if isinstance(outcome, Article) and dedup is not None:
        signer = _signers.get(dedup) or _signers.setdefault(dedup, Signer(dedup))
        outcome.line_keys = line_keys(outcome.lines)
        outcome.line_words = signer.line_words(outcome.lines, sign=True)
    return outcome


UNCHANGED = "unchanged"   # the outcome of an HtmlFile whose bytes are those already stored


def _process_file(file: HtmlFile, options: ExtractOptions, dedup: DedupOptions | None = None):
    """Runs in a worker: read a saved page and process it. Returns (the page without its bytes, its outcome
    or UNCHANGED), or the BadRecord of a file that cannot be read."""
    page = read_html_file(file.path)
    if isinstance(page, BadRecord):
        return page
    shell = dataclasses.replace(page, body=b"")  # keeps body_sha1: what the main process stores
    if page.body_sha1 == file.unchanged_sha1:
        return shell, UNCHANGED
    return shell, _process(page, options, dedup)


class ExtractionPool:
    """Runs `process_page` for pages in worker processes; results come back as they finish."""

    def __init__(self, workers: int, timeout: float, options: ExtractOptions, dedup: DedupOptions | None = None):
        self.workers = workers
        self.timeout = timeout
        self.options = options
        self.dedup = dedup   # given: workers hash each article's words with these options
        self._pool: ProcessPool | None = None

    def __enter__(self) -> "ExtractionPool":
        # The fork server imports the extractor once and every worker forks from it ready to go; by default
        # it would import the main module instead (all of Scrapy, under `scrapy reprocess`). Already started
        # by the command, usually (start_forkserver); starting it again is a no-op.
        start_forkserver()
        self._pool = ProcessPool(max_workers=self.workers, max_tasks=_TASKS_PER_WORKER, initializer=_warm_up,
                                 context=_WorkerContext())
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._pool is not None
        if exc_type is None:
            self._pool.close()
        else:
            self._pool.stop()
        self._pool.join()

    def map_unordered(self, pages: Iterator, on_other: Callable[[object], None],
                      stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[Page, Article | Rejected | str]]:
        """(page, outcome) for each Page or HtmlFile in `pages` (an HtmlFile's page comes back without its
        bytes, and its outcome may be UNCHANGED), with a bounded number in flight so memory stays flat;
        other items, and files that cannot be read, are handed to `on_other`. While no page finishes, None
        comes every half second. Ends early, within half a second, once `stop()` says so (the pages still in
        the workers are left to the pool's exit)."""
        assert self._pool is not None
        pending: dict = {}
        limit = 2 * self.workers + 2
        for item in pages:
            if stop():
                return
            if isinstance(item, Page):
                task = (_process, (item, self.options, self.dedup))
            elif isinstance(item, HtmlFile):
                task = (_process_file, (item, self.options, self.dedup))
            else:
                on_other(item)
                continue
            pending[self._pool.schedule(*task, timeout=self.timeout)] = item
            if len(pending) >= limit:
                yield from self._drain(pending, on_other, stop)
        while pending and not stop():
            yield from self._drain(pending, on_other, stop)

    def run(self, function, *args):
        """Run any function (importable by name) in a worker and return its result."""
        assert self._pool is not None
        return self._pool.schedule(function, args, timeout=self.timeout).result()

    def submit(self, page: Page):
        """Schedule one page; the future's result goes through `outcome`."""
        assert self._pool is not None
        return self._pool.schedule(_process, (page, self.options, self.dedup), timeout=self.timeout)

    def _drain(self, pending: dict, on_other: Callable[[object], None],
               stop: Callable[[], bool]) -> Iterator[tuple[Page, Article | Rejected | str]]:
        done: set = set()
        while not done and not stop():
            done, _ = wait(list(pending), timeout=0.5, return_when=FIRST_COMPLETED)
            if not done:
                yield None   # nothing finished in half a second: the caller may commit what it has
        for future in done:
            item = pending.pop(future)
            if isinstance(item, Page):
                yield item, self.outcome(item, future)
                continue
            try:
                result = future.result()
            except Exception:  # the worker timed out or died: the file's own page carries the reason
                page = read_html_file(item.path)
                if isinstance(page, BadRecord):
                    on_other(page)
                else:
                    yield dataclasses.replace(page, body=b""), self.outcome(page, future)
                continue
            if isinstance(result, BadRecord):
                on_other(result)
            else:
                yield result

    def outcome(self, page: Page, future) -> Article | Rejected:
        """The article or rejection a finished future stands for (a timeout or a crash is a rejection)."""
        try:
            return future.result()
        except TimeoutError:
            return Rejected.error(page, "extract_timeout", f"extraction took longer than {self.timeout:g} s")
        except ProcessExpired as exc:
            return Rejected.error(page, "worker_crashed", f"worker died (exit code {exc.exitcode})")
        except Exception as exc:  # a bug or a pathological page: this page fails, the run goes on
            return Rejected.error(page, "extract_failed", f"{type(exc).__name__}: {exc}")
