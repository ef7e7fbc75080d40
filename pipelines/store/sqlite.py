"""The embedded store: SQLite in WAL mode, one writer, each page's rows in one transaction."""
from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import sys
import urllib.parse
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator

from ..model import EXPORT_FIELDS, STORY_FIELDS, Article, RawRef, Rejected
from ..steps import templates
from ..stories.origin import site_of
from .stories_sql import StoryTables

SCHEMA_VERSION = "5"
_ARTICLE_COLUMNS = (
    "fetched_url", "url", "canonical_url", "title", "authors", "published", "modified", "site_name",
    "host", "language", "description", "tags", "image", "image_caption", "image_credit", "wire_source",
    "left_out", "text", "fetched_at", "archive_path", "archive_offset", "body_sha1", "standfirst", "summary",
    "extractor_version",   # last: a row equal but for it is unchanged
)
_V4_COLUMNS = tuple(c for c in _ARTICLE_COLUMNS if c not in ("standfirst", "summary"))
_REJECT_COLUMNS = ("fetched_url", "kind", "reason", "detail", "fetched_at", "archive_path",
                   "archive_offset", "body_sha1", "extractor_version")


class StoreError(Exception):
    """The store cannot be opened or used; the message says which and why."""


class NoStore(StoreError):
    """A reader was pointed at a store that does not exist."""


class StoreDamaged(StoreError):
    """SQLite found the file corrupt."""


class StoreFull(StoreError):
    """The disk the store is on is full."""


class StoreReadOnly(StoreError):
    """A writer was given a store it may not write."""


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
        self.signature_cache: dict[int, tuple] = {}
        self.story_cache: dict[str, int | None] = {}   # fetched_url -> its story (StoryTables.stories_of), same terms
        self.id_cache: dict[str, int] = {}             # fetched_url -> its article id (StoryTables._ids), same terms
        self._savepoints = 0
        # When a run refreshes a host's template lines (refresh_templates(due_only=True)): the articles saved
        # for each host since its last refresh, and how many it had then. Only a schedule: a save rolled back
        # after being counted makes a refresh come a little early, never a wrong one.
        self._host_saves: dict[str, int] = {}
        self._host_size: dict[str, int] = {}
        self._templates: dict[str, frozenset[str]] = {}   # each host's template keys, as stored

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
                version = _schema_version(db)
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
            if version not in ("1", "2", "3", "4"):
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
        version = _schema_version(db)
        if version not in (None, "1", "2", "3", "4", SCHEMA_VERSION):
            raise StoreError(f"{self.path} has schema version {version}, this wirecrawl expects {SCHEMA_VERSION}")
        if version == "1":
            _migrate_from_1(db)
        if version in ("1", "2"):
            _migrate_from_2(db)
        if version in ("1", "2", "3"):
            _migrate_from_3(db, schema)
        if version in ("1", "2", "3", "4"):
            _migrate_from_4(db)
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
        self._templates.clear()

    def stories(self) -> StoryTables:
        return StoryTables(self.db, self.signature_cache, self.story_cache, self.id_cache)

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
    def known(self, fetched_url: str) -> tuple[str | None, str] | None:
        """(body_sha1, extractor_version) of the stored row for this page, or None."""
        row = self.db.execute(
            "SELECT body_sha1, extractor_version FROM articles WHERE fetched_url=? UNION ALL "
            "SELECT body_sha1, extractor_version FROM rejects WHERE fetched_url=?",
            (fetched_url, fetched_url)).fetchone()
        return (row[0], row[1]) if row else None

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
        template_keys = self._template_keys(a.host)
        keys = a.line_keys if a.line_keys is not None and len(a.line_keys) == len(a.lines) else templates.line_keys(a.lines)
        text, left_out = templates.body(a.lines, template_keys, keys)
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
            self._host_saves[a.host] = self._host_saves.get(a.host, 0) + 1
            self.db.execute("INSERT OR REPLACE INTO article_lines VALUES (?, ?, ?, ?)",
                            (a.fetched_url, a.host, templates.lead_key(a.lines, keys),
                             " ".join(sorted(templates.candidate_keys(a.lines, keys)))))
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

    # -- host templates -----------------------------------------------------------------------
    def _template_keys(self, host: str | None) -> frozenset[str]:
        if not host:
            return frozenset()
        keys = self._templates.get(host)
        if keys is None:
            keys = self._templates[host] = frozenset(
                r[0] for r in self.db.execute("SELECT line_hash FROM host_templates WHERE host=?", (host,)))
        return keys

    def refresh_templates(self, min_articles: int, due_only: bool = False) -> int:
        """Re-learn the template lines of every host whose articles changed since its last refresh and,
        when they differ from the host's current ones, rewrite the text of its articles (an article's text
        is always its lines minus its host's current template lines: when those stay, nothing changes).
        Returns how many article rows changed. One transaction per host, so an interrupted refresh
        resumes where it stopped.

        `due_only`: only the hosts whose articles saved through this store since its last refresh number
        at least `min_articles` and at least as many as it had then. A run calls this as it goes, so a new
        host's template lines are learned from its first articles and the rest are stored clean, instead
        of all being rewritten and re-filed at the end; the doubling keeps all of a host's refreshes
        within about twice the cost of one."""
        changed = 0
        for (host,) in self.db.execute("SELECT host FROM dirty_hosts ORDER BY host").fetchall():
            if due_only and not self._due(host, min_articles):
                continue
            with self.transaction() as db:
                learned = templates.learn(db.execute("SELECT lead, line_keys FROM article_lines WHERE host=?", (host,)),
                                          min_articles)
                if learned != self._template_keys(host):
                    db.execute("DELETE FROM host_templates WHERE host=?", (host,))
                    db.executemany("INSERT INTO host_templates VALUES (?, ?)", [(host, k) for k in sorted(learned)])
                    self._templates[host] = frozenset(learned)
                    changed += self._reclean(host, learned)
                db.execute("DELETE FROM dirty_hosts WHERE host=?", (host,))
            self._host_saves[host] = 0
            self._host_size[host] = self._articles_of(host)
        return changed

    def _due(self, host: str, min_articles: int) -> bool:
        saved = self._host_saves.get(host, 0)
        if saved < min_articles:
            return False
        if host not in self._host_size:   # not refreshed by this process yet
            self._host_size[host] = self._articles_of(host) - saved
        return saved >= self._host_size[host]

    def _articles_of(self, host: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE host=?", (host,)).fetchone()[0]

    def _reclean(self, host: str, learned: set[str]) -> int:
        """Rewrite the text of a host's articles for its new template lines; those that change are re-filed."""
        changed = 0
        for article_id, fetched_url, left_out, text in self.db.execute(
                "SELECT id, fetched_url, left_out, text FROM articles WHERE host=?", (host,)).fetchall():
            new_text, new_left_out = templates.body(templates.lines_of(text, left_out), learned)
            if new_text != text:
                self.db.execute("UPDATE articles SET text=?, left_out=? WHERE id=?", (new_text, new_left_out, article_id))
                self.db.execute("INSERT OR IGNORE INTO unfiled VALUES (?, ?)", (fetched_url, article_id))
                changed += 1
        return changed

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


def _schema_version(db: sqlite3.Connection) -> str | None:
    """None for a new store."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='store_meta'").fetchone():
        return None
    row = db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone()
    return row[0] if row else None


def _migrate_from_1(db: sqlite3.Connection) -> None:
    """Schema 1 kept a host_lines row per (host, line, article), where schema 2 keeps one article_lines row
    per article; and schema 2 keeps each story member's time and site in its row. Each step is a transaction
    and is skipped once done, so an interrupted migration resumes at the next open."""
    if "site" not in {r[1] for r in db.execute("PRAGMA table_info(story_members)")}:
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ALTER TABLE story_members ADD COLUMN t TEXT NOT NULL DEFAULT ''")
            db.execute("ALTER TABLE story_members ADD COLUMN site TEXT NOT NULL DEFAULT ''")
            db.execute("UPDATE story_members SET t = COALESCE((SELECT s.t FROM signatures s "
                       "WHERE s.fetched_url = story_members.fetched_url), '')")
            hosts = db.execute("SELECT m.fetched_url, a.host FROM story_members m "
                               "JOIN articles a ON a.fetched_url = m.fetched_url").fetchall()
            db.executemany("UPDATE story_members SET site=? WHERE fetched_url=?", [(site_of(h or ""), u) for u, h in hosts])
            db.execute("DROP INDEX IF EXISTS story_members_story")
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE IF NOT EXISTS article_lines (fetched_url TEXT PRIMARY KEY, host TEXT NOT NULL, "
                   "lead TEXT NOT NULL, line_keys TEXT NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS article_lines_host ON article_lines (host)")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='host_lines'").fetchone():
            db.execute("INSERT OR REPLACE INTO article_lines SELECT fetched_url, MIN(host), MIN(lead), "
                       "group_concat(line_hash, ' ') FROM host_lines GROUP BY fetched_url")
            db.execute("DROP TABLE host_lines")
        db.execute("UPDATE store_meta SET value='2' WHERE key='schema_version'")


def _migrate_from_2(db: sqlite3.Connection) -> None:
    """Schema 2 kept each article's lines, as JSON, beside its text, which holds most of them: over a quarter
    of the store. Schema 3 keeps only the lines the text leaves out (`templates.body`). One transaction, so a
    migration that fails leaves the store as it was."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        if "lines" in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            _announce(db, "schema 3: each article's text is kept once")
            _rewrite_lines(db)
        db.execute("UPDATE store_meta SET value='3' WHERE key='schema_version'")


def _rewrite_lines(db: sqlite3.Connection) -> None:
    """Each article's `lines` (JSON list) as what its text leaves out of them, a thousand rows at a time."""
    db.execute("ALTER TABLE articles RENAME COLUMN lines TO left_out")
    last = ""
    while rows := db.execute("SELECT fetched_url, left_out, text FROM articles WHERE fetched_url > ? "
                             "ORDER BY fetched_url LIMIT 1000", (last,)).fetchall():
        db.executemany("UPDATE articles SET left_out=? WHERE fetched_url=?",
                       [(_left_out(json.loads(lines), text), url) for url, lines, text in rows])
        last = rows[-1][0]


def _announce(db: sqlite3.Connection, what: str) -> None:
    """Say on stderr that a migration starts (a large store takes a while, once): logging is not set up for
    every command that opens a store."""
    articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    print(f"wirecrawl: migrating the store to {what} (once; {articles:,} articles)", file=sys.stderr, flush=True)


_KEYED_BY_ID = ("articles", "signatures", "links", "stories", "story_members", "unfiled")


def _migrate_from_3(db: sqlite3.Connection, schema: str) -> None:
    """Schema 3 keyed the story tables by URL; schema 4 gives each article an id (`articles.id`, in order of
    time) and keys them by it. The six tables are written again with the same rows, in one transaction, so a
    migration that fails leaves the store as it was. Signatures keep their ids (the saved band index refers to
    them); an article gone since it was last filed, whose story rows are still there, gets an id of its own."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        if "id" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            _announce(db, "schema 4: the story tables refer to articles by id")
            _key_by_id(db, schema)
        db.execute("UPDATE store_meta SET value='4' WHERE key='schema_version'")


def _migrate_from_4(db: sqlite3.Connection) -> None:
    """Schema 5 keeps the standfirst and the summary bullets apart from the text. Older rows keep them in
    their text (empty columns) until they are extracted again: the extractor version changed with it, so the
    next reprocess of the archive does that."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        have = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
        if "standfirst" not in have:
            db.execute("ALTER TABLE articles ADD COLUMN standfirst TEXT")
        if "summary" not in have:
            db.execute("ALTER TABLE articles ADD COLUMN summary TEXT NOT NULL DEFAULT '[]'")
        db.execute("UPDATE store_meta SET value='5' WHERE key='schema_version'")


def _key_by_id(db: sqlite3.Connection, schema: str) -> None:
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN "
                              f"({', '.join('?' * len(_KEYED_BY_ID))})", _KEYED_BY_ID).fetchall():
        db.execute(f"DROP INDEX {name}")   # (their names are the new tables' too)
    for table in _KEYED_BY_ID:
        db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    for statement in _statements(schema):
        db.execute(statement)
    columns = ", ".join(_V4_COLUMNS)
    db.execute(f"INSERT INTO articles ({columns}) SELECT {columns} FROM old_articles "
               "ORDER BY COALESCE(published, fetched_at), fetched_url")
    db.execute("CREATE TEMP TABLE ids (fetched_url TEXT PRIMARY KEY, id INTEGER NOT NULL)")
    db.execute("INSERT INTO ids SELECT fetched_url, id FROM articles")
    gone = sorted({u for (u,) in db.execute(
        "SELECT fetched_url FROM old_unfiled UNION SELECT fetched_url FROM old_signatures UNION "
        "SELECT fetched_url FROM old_story_members UNION SELECT a FROM old_links UNION SELECT b FROM old_links UNION "
        "SELECT origin_url FROM old_stories EXCEPT SELECT fetched_url FROM ids")})
    if gone:
        first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM articles").fetchone()[0]
        db.executemany("INSERT INTO ids VALUES (?, ?)", [(u, first + i) for i, u in enumerate(gone)])
        _set_sequence(db, "articles", first + len(gone) - 1)   # never given to another article
    db.execute("INSERT INTO signatures SELECT s.id, i.id, s.fetched_url, s.t, s.text_hash, s.n_shingles, s.minhash, "
               "s.shingles FROM old_signatures s JOIN ids i USING (fetched_url) ORDER BY s.id")
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name='old_signatures'").fetchone()
    if seq:
        _set_sequence(db, "signatures", seq[0])
    db.execute("INSERT INTO links SELECT MIN(ia.id, ib.id), MAX(ia.id, ib.id), l.jaccard, l.containment FROM old_links l "
               "JOIN ids ia ON ia.fetched_url = l.a JOIN ids ib ON ib.fetched_url = l.b")
    db.execute("INSERT INTO stories SELECT i.id, s.story_id, s.origin_url, s.reason, s.size FROM old_stories s "
               "JOIN ids i ON i.fetched_url = s.origin_url")
    db.execute("INSERT INTO story_members SELECT im.id, io.id, m.relation, m.similarity, m.t, m.site FROM old_story_members m "
               "JOIN old_stories s ON s.story_id = m.story_id JOIN ids im ON im.fetched_url = m.fetched_url "
               "JOIN ids io ON io.fetched_url = s.origin_url")
    db.execute("INSERT INTO unfiled SELECT u.fetched_url, i.id FROM old_unfiled u JOIN ids i USING (fetched_url)")
    for table in _KEYED_BY_ID:
        db.execute(f"DROP TABLE old_{table}")
    db.execute("DROP TABLE temp.ids")


def _set_sequence(db: sqlite3.Connection, table: str, seq: int) -> None:
    """Make an AUTOINCREMENT table give ids above `seq` from now on."""
    if db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name=?", (seq, table)).rowcount == 0:
        db.execute("INSERT INTO sqlite_sequence VALUES (?, ?)", (table, seq))


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one by one (executescript would commit the transaction first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


def _left_out(lines: list[str], text: str) -> str:
    """What `templates.body` wrote beside `text` for these lines, found from the two."""
    keep = templates.kept(lines, text)
    if keep is not None:
        made, left_out = templates.split(lines, keep)
        if made == text:
            return left_out
    return json.dumps({"lines": lines}, ensure_ascii=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
