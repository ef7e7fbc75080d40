"""The embedded store: SQLite in WAL mode, one writer, each page's rows in one transaction."""
from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import urllib.parse
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator

from ..model import EXPORT_FIELDS, STORY_FIELDS, Article, Known, RawRef, Recleaned, Rejected
from .base import NoStore, StoreDamaged, StoreError, StoreFull, StoreReadOnly
from .sqlite_migrations import OLDER, SCHEMA_VERSION, migrate, schema_version
from .sqlite_stories import StoryTables

_ARTICLE_COLUMNS = (
    "fetched_url", "url", "canonical_url", "title", "authors", "published", "modified", "site_name",
    "host", "language", "description", "tags", "image", "image_caption", "image_credit", "wire_source",
    "left_out", "text", "fetched_at", "archive_path", "archive_offset", "body_sha1", "standfirst", "summary",
    "extractor_version",   # last: a row equal but for it is unchanged
)
_REJECT_COLUMNS = ("fetched_url", "kind", "reason", "detail", "fetched_at", "archive_path",
                   "archive_offset", "body_sha1", "extractor_version")


# What a store's methods can raise (a read that meets a damaged page raises SQLite's own error): a caller
# turns it into a StoreError that says what to do with failure()
ERRORS = (StoreError, sqlite3.Error)
_ROOM = 64 * 1024 * 1024   # what a full store asks to be freed at least: a few commit groups, WAL included


def failure(path: Path, exc: BaseException, doing: str = "use") -> StoreError:
    """The StoreError that says what a failure of the store at `path` means to a user, and what to do."""
    if isinstance(exc, StoreError):
        return exc
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    err = getattr(exc, "errno", None)
    if code == sqlite3.SQLITE_FULL or err == errno.ENOSPC:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = 0
        size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        return StoreFull(f"the disk of store {path} is full ({_mb(free)} free there): free at least "
                         f"{_mb(max(_ROOM, size))} and run again; nothing stored before is lost, and the pages of "
                         "the commit that failed are read again")
    if code == sqlite3.SQLITE_CORRUPT:
        return StoreDamaged(f"the store {path} is damaged ({exc}): recover what it holds with "
                            f"`sqlite3 {path} .recover | sqlite3 recovered.sqlite` and use recovered.sqlite, or "
                            "build a new store with `scrapy reprocess` of the crawl's archive (data/archive/)")
    if code == sqlite3.SQLITE_READONLY or err in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnly(f"the store {path} is read-only ({exc}): this command writes to it; make it "
                             "writable, or copy it to a writable place and pass --store")
    return StoreError(f"cannot {doing} store {path}: {exc}")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class SQLiteStore:
    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None
        # Signatures read or written by this process, by id (see StoryTables.signatures_by_id). Coherent
        # because one process writes a store at a time (lock.py); a rollback empties it.
        self.signature_cache: dict = {}
        self.story_cache: dict[str, int | None] = {}   # fetched_url -> its story (StoryTables.stories_of), same terms
        self.id_cache: dict[str, int] = {}             # fetched_url -> its article id (StoryTables._ids), same terms
        self._savepoints = 0

    @classmethod
    def from_uri(cls, uri: str) -> "SQLiteStore":
        rest = uri.removeprefix("sqlite://")
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"bad SQLite URI {uri!r}: use sqlite:///relative/path.sqlite or sqlite:////absolute/path.sqlite")
        return cls(Path(rest[1:]))

    # -- life cycle -------------------------------------------------------------------------
    def open(self, read_only: bool = False) -> "SQLiteStore":
        """Open for writing (made when missing, migrated when older), or, for a reader, read-only: a
        missing store is then a NoStore, and a store on a read-only disk or mount can be read."""
        if read_only:
            if not self.path.is_file():
                raise NoStore(f"no store at {self.path.absolute()}")
            db = self._open_read_only()
            if db is not None:
                self._db = db
                return self
            # an older schema: a writer migrates it first (a read-only one cannot be read by this version)
        db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._prepare(db)
        except BaseException as exc:
            if db is not None:
                db.close()
            if isinstance(exc, ValueError):   # a row a migration cannot read
                raise StoreError(f"cannot open store {self.path}: {exc}") from exc
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise failure(self.path, exc, "open") from exc
            raise
        self._db = db
        return self

    def _open_read_only(self) -> sqlite3.Connection | None:
        """A read-only connection, or None when the store has an older schema. On a read-only disk SQLite
        cannot make the WAL index beside a WAL store: the file is then read as immutable (nothing can
        write it there either)."""
        uri = "file:" + urllib.parse.quote(str(self.path.resolve()))
        for flags in ("?mode=ro", "?immutable=1"):
            db = None
            try:
                db = sqlite3.connect(uri + flags, uri=True, isolation_level=None, timeout=30)
                version = schema_version(db)
            except sqlite3.Error as exc:
                if db is not None:
                    db.close()
                code = exc.sqlite_errorcode & 0xFF
                if flags == "?mode=ro" and code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
                    continue
                raise failure(self.path, exc, "open") from exc
            if version == SCHEMA_VERSION:
                return db
            db.close()
            if version is None:
                raise NoStore(f"no wirecrawl store at {self.path.absolute()} (the file holds none of its tables)")
            if version not in OLDER:
                raise StoreError(f"{self.path} has schema version {version}, this wirecrawl expects {SCHEMA_VERSION}")
            return None
        return None

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Settings, and the schema: made, or migrated from an older one."""
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint every 10,000 WAL pages (40 MB) instead of 1,000: saving and filing dirty index pages spread
        # over the store (URL keys), so between two checkpoints many are written again; each checkpoint writes a
        # page once and syncs once. Filing as the main process does, with schema 3 (the story tables keyed by
        # URL): +13 % on an empty store, +26 % holding 100,000 articles.
        db.execute("PRAGMA wal_autocheckpoint=10000")
        db.execute("PRAGMA foreign_keys=ON")
        schema = resources.files("pipelines.store").joinpath("schema.sql").read_text()
        version = schema_version(db)
        if version not in (None, *OLDER, SCHEMA_VERSION):
            raise StoreError(f"{self.path} has schema version {version}, this wirecrawl expects {SCHEMA_VERSION}")
        migrate(db, version, schema)
        db.executescript(schema)
        if version is None:
            db.execute("INSERT INTO store_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    @contextmanager
    def transaction(self):
        """One write transaction: committed whole, or rolled back whole (a write error is a StoreError).
        Inside another it is a savepoint of that one: what it wrote commits or rolls back with the outer
        one, and when it fails only its own writes are undone before the error goes on."""
        db = self.db
        if db.in_transaction:
            self._savepoints += 1
            name = f"nested_{self._savepoints}"
            db.execute(f"SAVEPOINT {name}")
            try:
                yield db
                db.execute(f"RELEASE {name}")
            except BaseException:
                db.execute(f"ROLLBACK TO {name}")
                db.execute(f"RELEASE {name}")
                self._forget()
                raise
            finally:
                self._savepoints -= 1
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:  # disk full, locked too long: the rows are rolled back whole
            self._rollback()
            raise failure(self.path, exc, "write to") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it rolls back by itself on a full disk)."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass   # the failure that led here is the one to report
        self._forget()

    def _forget(self) -> None:
        """What this process remembers of the rows a rollback just undid."""
        self.signature_cache.clear()
        self.story_cache.clear()
        self.id_cache.clear()

    def stories(self) -> StoryTables:
        return StoryTables(self.db, self.signature_cache, self.story_cache, self.id_cache)

    def failure(self, exc: BaseException, doing: str = "use") -> StoreError:
        return failure(self.path, exc, doing)

    def writer_lock(self, command: str):
        """Hold the store for one writing run (see lock.py); raises StoreBusy naming the run that holds it."""
        from .lock import WriterLock

        return WriterLock(self.sidecar("lock"), command)

    def sidecar(self, name: str) -> Path:
        """A file or folder beside the database that belongs to it (the run lock, the saved band index),
        named from its real path: every name of one store (a symbolic link, another relative path) has
        the same lock and the same index."""
        real = self.path.resolve()
        return real.with_name(f"{real.name}.{name}")

    # -- runs ---------------------------------------------------------------------------------
    def begin_run(self, command: str, options: dict) -> int:
        """Record a run as running. Called under the writer lock, so a run still marked running cannot be:
        it was killed (kill -9, a power cut) before it could say how it ended, and is marked so."""
        self.db.execute("UPDATE runs SET status='killed' WHERE status='running'")
        cur = self.db.execute(
            "INSERT INTO runs (command, started_at, status, options) VALUES (?, ?, 'running', ?)",
            (command, _now(), json.dumps(options, sort_keys=True)))
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        self.db.execute("UPDATE runs SET finished_at=?, status=?, counts=? WHERE id=?",
                        (_now(), status, json.dumps(counts, sort_keys=True), run_id))

    # -- pages ----------------------------------------------------------------------------------
    def known(self, fetched_url: str) -> Known | None:
        """What the stored row of this page was made from, or None."""
        row = self.db.execute(
            "SELECT body_sha1, extractor_version FROM articles WHERE fetched_url=? UNION ALL "
            "SELECT body_sha1, extractor_version FROM rejects WHERE fetched_url=?",
            (fetched_url, fetched_url)).fetchone()
        return Known(row[0], row[1]) if row else None

    def save(self, result: Article | Rejected, ref: RawRef, body_sha1: str | None, version: str,
             url_key: str | None = None) -> str:
        """Store one page's outcome in one transaction; returns 'new', 'updated' or 'unchanged'. A crawl
        passes the page's `url_key`, marked as fetched in the same transaction."""
        with self.transaction():
            if url_key is not None:
                self.db.execute("INSERT OR REPLACE INTO crawl_seen VALUES (?, ?)", (url_key, result.fetched_url))
            if isinstance(result, Article):
                return self._save_article(result, ref, body_sha1, version)
            return self._save_reject(result, ref, body_sha1, version)

    # -- crawl state ----------------------------------------------------------------------------
    def seen(self, url_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM crawl_seen WHERE url_key=?", (url_key,)).fetchone() is not None

    def fetch_state(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT etag, last_modified FROM fetch_state WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def set_fetch_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO fetch_state VALUES (?, ?, ?, ?)", (url, etag, last_modified, _now()))

    def _save_article(self, a: Article, ref: RawRef, body_sha1: str | None, version: str) -> str:
        if a.body is None:
            raise ValueError(f"{a.fetched_url}: an article is cleaned for its host (templates.HostTemplates) before it is stored")
        text, left_out = a.body.text, a.body.left_out
        row = (a.fetched_url, a.url, a.canonical_url, a.title, json.dumps(a.authors), a.published,
               a.modified, a.site_name, a.host, a.language, a.description, json.dumps(a.tags), a.image,
               a.image_caption, a.image_credit, a.wire_source, left_out, text, a.fetched_at, ref.path, ref.offset,
               body_sha1, a.standfirst, json.dumps(a.summary), version)
        old = self.db.execute(f"SELECT id, {', '.join(_ARTICLE_COLUMNS)} FROM articles WHERE fetched_url=?",
                              (a.fetched_url,)).fetchone()
        existed = old is not None or self._delete_reject(a.fetched_url)
        if old is not None and old[1:-1] == row[:-1]:
            if old[-1] != version:  # a new extractor gave the same row: note who made it, nothing changed
                self.db.execute("UPDATE articles SET extractor_version=? WHERE id=?", (version, old[0]))
            return "unchanged"
        if old is not None:   # updated in place: the article keeps its id
            article_id = old[0]
            self.db.execute(f"UPDATE articles SET {', '.join(c + '=?' for c in _ARTICLE_COLUMNS)} WHERE id=?", row + (article_id,))
        else:   # new; or back from being a rejected page before it was filed: it takes its id back (its story rows have it)
            placeholders = ", ".join("?" * len(_ARTICLE_COLUMNS))
            article_id = self.db.execute(
                f"INSERT INTO articles (id, {', '.join(_ARTICLE_COLUMNS)}) VALUES "
                f"((SELECT article FROM unfiled WHERE fetched_url=?), {placeholders}) RETURNING id",
                (a.fetched_url,) + row).fetchone()[0]
            self.id_cache[a.fetched_url] = article_id   # (filing it next needs it)
        self.db.execute("INSERT OR IGNORE INTO unfiled VALUES (?, ?)", (a.fetched_url, article_id))
        if a.host:
            self.db.execute("INSERT OR IGNORE INTO dirty_hosts VALUES (?)", (a.host,))
            self.db.execute("INSERT OR REPLACE INTO article_lines VALUES (?, ?, ?, ?)",
                            (a.fetched_url, a.host, a.body.lead, a.body.candidates))
        else:
            self.db.execute("DELETE FROM article_lines WHERE fetched_url=?", (a.fetched_url,))
        return "updated" if existed else "new"

    def _save_reject(self, r: Rejected, ref: RawRef, body_sha1: str | None, version: str) -> str:
        row = (r.fetched_url, r.kind, r.reason, r.detail, r.fetched_at, ref.path, ref.offset, body_sha1, version)
        old = self.db.execute(f"SELECT {', '.join(_REJECT_COLUMNS)} FROM rejects WHERE fetched_url=?",
                              (r.fetched_url,)).fetchone()
        if old is not None and old[:-1] == row[:-1]:
            if old[-1] != version:
                self.db.execute("UPDATE rejects SET extractor_version=? WHERE fetched_url=?", (version, r.fetched_url))
            return "unchanged"
        existed = old is not None
        gone = self.db.execute("DELETE FROM articles WHERE fetched_url=? RETURNING id, host", (r.fetched_url,)).fetchone()
        if gone is not None:
            self.db.execute("DELETE FROM article_lines WHERE fetched_url=?", (r.fetched_url,))
            self.db.execute("INSERT OR IGNORE INTO unfiled VALUES (?, ?)", (r.fetched_url, gone[0]))
            if gone[1]:
                self.db.execute("INSERT OR IGNORE INTO dirty_hosts VALUES (?)", (gone[1],))
            existed = True
        placeholders = ", ".join("?" * len(_REJECT_COLUMNS))
        self.db.execute(f"INSERT OR REPLACE INTO rejects ({', '.join(_REJECT_COLUMNS)}) VALUES ({placeholders})", row)
        return "updated" if existed else "new"

    def _delete_reject(self, fetched_url: str) -> bool:
        return self.db.execute("DELETE FROM rejects WHERE fetched_url=?", (fetched_url,)).rowcount > 0

    # -- host templates (decided by steps.templates.HostTemplates) ------------------------------
    def template_keys(self, host: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT line_hash FROM host_templates WHERE host=?", (host,))]

    def dirty_hosts(self) -> list[str]:
        """The hosts whose articles changed since their template lines were last learned."""
        return [r[0] for r in self.db.execute("SELECT host FROM dirty_hosts ORDER BY host")]

    def host_lines(self, host: str) -> list[tuple[str, str]]:
        """(lead key, candidate keys) of each of the host's articles."""
        return self.db.execute("SELECT lead, line_keys FROM article_lines WHERE host=?", (host,)).fetchall()

    def host_texts(self, host: str) -> list[tuple[int, str, str, str]]:
        """(id, fetched_url, left_out, text) of each of the host's articles."""
        return self.db.execute("SELECT id, fetched_url, left_out, text FROM articles WHERE host=?", (host,)).fetchall()

    def articles_of(self, host: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE host=?", (host,)).fetchone()[0]

    def save_templates(self, host: str, keys: list[str] | None, recleaned: list[Recleaned]) -> None:
        """The host's template lines learned again: its new lines (None: they stay) and the texts that
        changed with them, which are marked for filing."""
        with self.transaction() as db:
            if keys is not None:
                db.execute("DELETE FROM host_templates WHERE host=?", (host,))
                db.executemany("INSERT INTO host_templates VALUES (?, ?)", [(host, k) for k in keys])
            for r in recleaned:
                db.execute("UPDATE articles SET text=?, left_out=? WHERE id=?", (r.text, r.left_out, r.article))
                db.execute("INSERT OR IGNORE INTO unfiled VALUES (?, ?)", (r.fetched_url, r.article))
            db.execute("DELETE FROM dirty_hosts WHERE host=?", (host,))

    # -- reading ------------------------------------------------------------------------------
    def iter_articles(self) -> Iterator[dict]:
        columns = ", ".join("st.story_id" if f == "story_id" else f"m.{f}" if f in STORY_FIELDS else f"a.{f}"
                            for f in EXPORT_FIELDS)
        cur = self.db.execute(f"SELECT {columns} FROM articles a LEFT JOIN story_members m ON m.article = a.id "
                              "LEFT JOIN stories st ON st.id = m.story ORDER BY a.url, a.fetched_url")
        for row in cur:
            item = dict(zip(EXPORT_FIELDS, row))
            item["authors"] = json.loads(item["authors"])
            item["tags"] = json.loads(item["tags"])
            item["summary"] = json.loads(item["summary"])
            yield item


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
