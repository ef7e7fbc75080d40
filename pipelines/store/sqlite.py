"""The embedded store: SQLite in WAL mode, one writer, each page's rows in one transaction."""
from __future__ import annotations

import errno
import shutil
import sqlite3
import urllib.parse
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from .base import NoStore, StoreDamaged, StoreError, StoreFull, StoreReadOnly
from .sql import SQLStore
from .sqlite_migrations import OLDER, SCHEMA_VERSION, migrate, schema_version

_ROOM = 64 * 1024 * 1024   # what a full store asks to be freed at least: a few commit groups, WAL included
_RESERVE = 256 * 1024      # kept free beside a writer's store, so that a full disk still records the run's end


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


class SQLiteStore(SQLStore):
    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._savepoints = 0
        self._reserve: Path | None = None

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
        self._free_reserve()

    def _free_reserve(self) -> None:
        if self._reserve is not None:
            self._reserve.unlink(missing_ok=True)
            self._reserve = None

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

    def failure(self, exc: BaseException, doing: str = "use") -> StoreError:
        error = failure(self.path, exc, doing)
        if isinstance(error, StoreFull):
            self._free_reserve()   # (room for the run's record to say it failed)
        return error

    def writer_lock(self, command: str):
        """Hold the store for one writing run (see lock.py); raises StoreBusy naming the run that holds it.
        The writer keeps a little room of its own on the store's disk, given back when the disk fills."""
        from .lock import WriterLock

        lock = WriterLock(self.sidecar("lock"), command)
        reserve = self.sidecar("reserve")
        try:
            with open(reserve, "wb") as out:
                out.write(bytes(_RESERVE))
            self._reserve = reserve
        except OSError:   # (already full, or not ours to write: the run says so on its first write)
            reserve.unlink(missing_ok=True)
        return lock

    def sidecar(self, name: str) -> Path:
        """A file or folder beside the database that belongs to it (the run lock, the saved band index),
        named from its real path: every name of one store (a symbolic link, another relative path) has
        the same lock and the same index."""
        real = self.path.resolve()
        return real.with_name(f"{real.name}.{name}")
