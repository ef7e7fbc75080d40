"""The store on PostgreSQL (psycopg 3): the rows and SQL of sql.SQLStore over one connection, which is also
the writer's: the writer lock is an advisory lock held by that connection's session, so a writer whose
connection is gone has lost both and can write nothing more."""
from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import conninfo, errors, pq
from psycopg import sql as pgsql

from .base import NoStore, StoreBusy, StoreDamaged, StoreError, StoreFull, StoreReadOnly
from .sql import _ARTICLE_COLUMNS, SQLStore

SCHEMA_VERSION = "7"
OLDER: tuple[str, ...] = ("5", "6")
_MIGRATIONS = {   # from each older version to the next, in one transaction
    "5": ["ALTER TABLE articles ADD COLUMN IF NOT EXISTS credits TEXT COLLATE \"C\" NOT NULL DEFAULT '[]'"],
    "6": ["ALTER TABLE articles ADD COLUMN IF NOT EXISTS extracted_title TEXT COLLATE \"C\""],
}
_LOCK_KEY = 0x77697265   # "wire": the advisory lock of the writer, one per database


_MARKS = re.compile(r"IN \((?:\?, )*\?\)|\?")


@functools.lru_cache(maxsize=4096)
def _format(sql: str) -> tuple[str, tuple[int, ...] | None]:
    """qmark SQL (no literal `?` in it) in psycopg's format style, each `IN (?, ..., ?)` as `= ANY(%s)`: one
    statement text whatever the list's length, so the server plans it once (prepared), not at each call.
    Returns it with how the parameters go (for each mark, 0 for one parameter, n for a list of n), or None
    when they go as they are."""
    out, plan, pos = [], [], 0
    for m in _MARKS.finditer(sql):
        out.append(sql[pos:m.start()].replace("%", "%%"))
        if m.group() == "?":
            out.append("%s")
            plan.append(0)
        else:
            out.append("= ANY(%s)")
            plan.append(m.group().count("?"))
        pos = m.end()
    out.append(sql[pos:].replace("%", "%%"))
    return "".join(out), (tuple(plan) if any(plan) else None)


def _params(plan: tuple[int, ...], params) -> list:
    out, i = [], 0
    for n in plan:
        if n:
            out.append(list(params[i:i + n]))
            i += n
        else:
            out.append(params[i])
            i += 1
    return out


def _statement(sql: str, params) -> tuple:
    """(text, parameters) for psycopg: as they are when there are none (so a `%` stays one)."""
    if not params:
        return sql, None
    text, plan = _format(sql)
    return text, (params if plan is None else _params(plan, params))


class _Connection:
    """A psycopg connection that runs the stores' qmark SQL, with sqlite3's `execute` and `executemany`."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def execute(self, sql: str, params=()) -> psycopg.Cursor:
        return self.conn.execute(*_statement(sql, params))

    def executemany(self, sql: str, rows, returning: bool = False):
        """As sqlite3's; with `returning`, the rows each statement returned, in order."""
        cur = self.conn.cursor()
        rows = list(rows)
        if rows:
            text, plan = _format(sql)
            cur.executemany(text, rows if plan is None else [_params(plan, r) for r in rows], returning=returning)
        if not returning:
            return cur
        out = []
        while rows:
            out += cur.fetchall()
            if not cur.nextset():
                break
        return out


class PostgresStore(SQLStore):
    NEW_ARTICLE_ID = "nextval(pg_get_serial_sequence('articles', 'id'))"

    def __init__(self, uri: str):
        super().__init__()
        try:
            info = conninfo.conninfo_to_dict(uri)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"bad PostgreSQL URI {self._safe(uri)!r}: {exc}") from None
        self.dbname = info.get("dbname") or os.environ.get("PGDATABASE") or "wirecrawl"
        self._info = {**info, "dbname": self.dbname}
        host = info.get("host") or os.environ.get("PGHOST") or "localhost"
        self.name = f"postgresql://{host}:{info.get('port') or os.environ.get('PGPORT') or 5432}/{self.dbname}"

    @classmethod
    def from_uri(cls, uri: str) -> PostgresStore:
        return cls(uri)

    @staticmethod
    def _safe(uri: str) -> str:
        """The URI less its password, to be shown."""
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", uri)

    # -- life cycle -------------------------------------------------------------------------
    def open(self, read_only: bool = False) -> PostgresStore:
        """Open for writing (the database and its tables made when missing), or read-only: a missing
        database or one without a store is then a NoStore."""
        try:
            conn = self._connect(read_only)
            if conn is None:   # no such database
                if read_only:
                    raise NoStore(f"no store at {self.name} (no such database)")
                self._create_database()
                conn = self._connect(read_only)
            self._db = _Connection(conn)
            self._prepare(read_only)
        except BaseException as exc:
            self.close()
            if isinstance(exc, psycopg.Error):
                raise self.failure(exc, "open") from None
            raise
        return self

    def _connect(self, read_only: bool) -> psycopg.Connection | None:
        """The store's connection, or None when the server is there without the database."""
        options = "-c default_transaction_read_only=on" if read_only else ""
        try:
            return psycopg.connect(conninfo.make_conninfo("", **self._info, options=options), autocommit=True,
                                   application_name="wirecrawl", connect_timeout=10)
        except psycopg.OperationalError as exc:
            try:   # is the server there, without the database? (else the first failure is the one to say)
                with self._maintenance() as admin:
                    found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)).fetchone()
            except psycopg.Error:
                raise self.failure(exc, "connect to") from None
            if found:
                raise self.failure(exc, "connect to") from None
            return None

    def _maintenance(self) -> psycopg.Connection:
        return psycopg.connect(conninfo.make_conninfo("", **{**self._info, "dbname": "postgres"}), autocommit=True,
                               connect_timeout=10)

    def _create_database(self) -> None:
        with self._maintenance() as admin:
            try:
                admin.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    pgsql.Identifier(self.dbname)))
            except errors.DuplicateDatabase:
                pass   # made meanwhile by another writer: its lock decides which writes

    def _prepare(self, read_only: bool) -> None:
        db = self.db
        version = None
        if db.execute("SELECT to_regclass('store_meta')").fetchone()[0] is not None:
            row = db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone()
            version = row[0] if row else None
        if version is None and read_only:
            raise NoStore(f"no wirecrawl store at {self.name} (the database holds none of its tables)")
        if version not in (None, *OLDER, SCHEMA_VERSION):
            raise StoreError(f"{self.name} has schema version {version}, this wirecrawl expects {SCHEMA_VERSION}")
        if version == SCHEMA_VERSION:
            return
        if read_only:
            raise StoreError(f"{self.name} has schema version {version}: open it once to write (a crawl or "
                             "a reprocess) to migrate it")
        schema = resources.files("pipelines.store").joinpath("schema_postgres.sql").read_text()
        with self.db.conn.transaction():
            db.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY + 1,))   # two first writers make it once
            if version is None:
                db.execute(schema)
                db.execute("INSERT INTO store_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                           (SCHEMA_VERSION,))
                return
            for older in OLDER[OLDER.index(version):]:
                for statement in _MIGRATIONS[older]:
                    db.execute(statement)
            db.execute("UPDATE store_meta SET value=? WHERE key='schema_version'", (SCHEMA_VERSION,))

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def _insert_articles(self, rows: list[tuple]) -> dict[str, int]:
        """One prepared single-row insert for each, pipelined (a multi-row one costs more to plan than to run)."""
        marks = self._INSERT_ARTICLE.format(new_id=self.NEW_ARTICLE_ID)
        return dict(self.db.executemany(f"INSERT INTO articles (id, {', '.join(_ARTICLE_COLUMNS)}) VALUES {marks} "
                                        "RETURNING fetched_url, id", [(row[0], *row) for row in rows], returning=True))

    @contextmanager
    def transaction(self):
        """One write transaction, or a savepoint inside one (as SQLiteStore.transaction)."""
        conn = self.db.conn
        try:   # (pipelined: a write whose result is not read waits for no round trip; nested, a savepoint)
            with conn.pipeline(), conn.transaction():
                yield self.db
        except psycopg.Error as exc:
            self._forget()
            raise self.failure(exc, "write to") from None
        except BaseException:
            self._forget()
            raise

    def stream(self, sql: str, params=()):
        """A large read through a server-side cursor, a few thousand rows at a time."""
        with self.db.conn.transaction(), self.db.conn.cursor(name="wirecrawl_stream") as cur:
            cur.itersize = 2000
            cur.execute(*_statement(sql, params))
            yield from cur

    def failure(self, exc: BaseException, doing: str = "use") -> StoreError:
        """The StoreError that says what a failure of PostgreSQL means to a user, and what to do."""
        if isinstance(exc, StoreError):
            return exc
        state = getattr(exc, "sqlstate", None) or ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if state == "53100":
            return StoreFull(f"the disk of the PostgreSQL server of {self.name} is full ({first}): free room "
                             "there and run again; nothing committed before is lost")
        if state in ("XX001", "XX002"):
            return StoreDamaged(f"the store {self.name} is damaged ({first}): restore the database from a backup, "
                                "or build a new store with `scrapy reprocess` of the crawl's archive")
        if state in ("25006", "42501"):
            return StoreReadOnly(f"the store {self.name} cannot be written by this user ({first}): this command "
                                 "writes to it; grant the rights, or pass another --store")
        conn = self._db.conn if self._db is not None else None
        if isinstance(exc, psycopg.OperationalError) and conn is None:
            return StoreError(f"cannot {doing} store {self.name}: {first} (is the server up, and the URI right?)")
        if isinstance(exc, psycopg.OperationalError) and (conn.closed or conn.pgconn.status != pq.ConnStatus.OK):
            return StoreError(f"cannot {doing} store {self.name}: the connection to PostgreSQL is gone or failed "
                              f"({first}); what was committed stays, the pages of the transaction that failed are "
                              "read again by the next run")
        return StoreError(f"cannot {doing} store {self.name}: {first}")

    def writer_lock(self, command: str) -> _AdvisoryLock:
        return _AdvisoryLock(self, command)

    def sidecar(self, name: str) -> Path:
        """A folder of this machine's that belongs to the store (the saved band index): in the user's cache
        folder, named from the server and the database. What is there is used only when it was made from
        the store's current signatures (WindowIndex checks), so another machine's filer rebuilds its own."""
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wirecrawl"
        digest = hashlib.sha1(self.name.encode()).hexdigest()[:16]
        return base / f"postgres-{self.dbname}-{digest}.{name}"


class _AdvisoryLock:
    """The writer's lock: a session-level advisory lock on the store's own connection, which names its holder
    in `application_name` for the message another writer gets."""

    def __init__(self, store: PostgresStore, command: str):
        self.store = store
        db = store.db
        try:
            db.execute("SELECT set_config('application_name', ?, false)",
                       (f"wirecrawl {command} pid {os.getpid()} on {socket.gethostname()}"[:63],))
            got = db.execute("SELECT pg_try_advisory_lock(?)", (_LOCK_KEY,)).fetchone()[0]
            holder = None if got else db.execute(
                "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = ? "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (_LOCK_KEY,)).fetchone()
        except psycopg.Error as exc:
            raise store.failure(exc, "lock") from None
        if not got:
            _, held_by, where = ((holder[0] if holder else "") + "  ").split(" ", 2)
            where = f"{where.strip() or 'pid unknown'}, client {holder[1] if holder and holder[1] else 'local'}"
            raise StoreBusy(f"another {held_by or 'run'} is running on store {store.name} ({where}); this {command} "
                            "exits without changing anything")

    def release(self) -> None:
        conn = self.store._db.conn if self.store._db is not None else None
        if conn is not None and not conn.closed:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
            except psycopg.Error:
                pass   # the connection is gone, and the lock with it
