"""What a store is: the protocol every backend keeps, its errors, and the rows it hands out. A backend owns
its SQL; what it stores is decided before it is called (cleaning in pipelines.steps, stories in
pipelines.stories)."""
from __future__ import annotations

from pathlib import Path
from typing import ContextManager, Iterable, Iterator, NamedTuple, Protocol

from ..model import Article, Known, RawRef, Recleaned, Rejected


class StoreError(Exception):
    """The store cannot be opened or used; the message says which and why."""


class NoStore(StoreError):
    """A reader was pointed at a store that does not exist."""


class StoreDamaged(StoreError):
    """The store's engine found it corrupt."""


class StoreFull(StoreError):
    """The disk the store is on is full."""


class StoreReadOnly(StoreError):
    """A writer was given a store it may not write."""


class StoreBusy(StoreError):
    """Another run is writing to the store; the message names it."""


class Saving(NamedTuple):
    """A page's outcome to store (SQLStore.save_many)."""
    result: Article | Rejected
    ref: RawRef
    body_sha1: str | None
    version: str
    url_key: str | None = None


class WriterLock(Protocol):
    def release(self) -> None: ...


class Store(Protocol):
    """A wirecrawl store. Writes happen inside `transaction()` (nested: a savepoint); a writing run holds
    `writer_lock` from start to end, so one process writes a store at a time."""

    def open(self, read_only: bool = False) -> "Store": ...
    def close(self) -> None: ...
    def transaction(self) -> ContextManager: ...
    def failure(self, exc: BaseException, doing: str = "use") -> StoreError: ...
    def writer_lock(self, command: str) -> WriterLock: ...
    def sidecar(self, name: str) -> Path: ...
    def stories(self): ...   # the story tables (story_tables.StoryTables), used by pipelines.stories

    # runs
    def ping(self) -> None: ...   # raises when the store (its connection, and a writer's lock) is gone
    def begin_run(self, command: str, options: dict) -> int: ...
    def finish_run(self, run_id: int, status: str, counts: dict) -> None: ...

    # pages
    def known(self, fetched_url: str) -> Known | None: ...
    def save(self, result: Article | Rejected, ref: RawRef, body_sha1: str | None, version: str,
             url_key: str | None = None) -> str: ...
    def save_many(self, pages: list[Saving]) -> list[str]: ...
    def iter_articles(self) -> Iterator[dict]: ...

    # crawl state
    def seen(self, url_key: str) -> bool: ...
    def fetch_state(self, url: str) -> tuple[str | None, str | None]: ...
    def set_fetch_state(self, url: str, etag: str | None, last_modified: str | None) -> None: ...

    # host templates: what steps.templates.HostTemplates reads and saves
    def template_keys(self, host: str) -> list[str]: ...
    def dirty_hosts(self) -> list[str]: ...
    def host_lines(self, host: str) -> Iterable[tuple[str, str]]: ...
    def host_texts(self, host: str) -> list[tuple[int, str, str, str, str | None, str | None]]: ...
    def articles_of(self, host: str) -> int: ...
    def save_templates(self, host: str, keys: list[str] | None, recleaned: list[Recleaned]) -> None: ...
