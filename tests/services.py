"""Real servers for the tests: PostgreSQL at the URL in WIRECRAWL_TEST_POSTGRES (a server where the tests may
create and drop databases), else a throwaway one started from the installed binaries (initdb in a temporary
folder, a free port on 127.0.0.1, stopped at the end). `tests/install-services` installs the binaries.

`store_uris(name)` gives the URI of the test's store called `name` (made empty at its first call) on the
test's backend: a file in tmp_path for SQLite, a database of its own (dropped afterwards) for PostgreSQL.
Tests that take `backend` (or `store_uris`, or `wirecrawl`) run once per backend."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

BACKENDS = ["sqlite", "postgresql"]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run tests/install-services")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, run as the `postgres` user when the tests run as root
    (the server refuses root), with durability off: the tests' data lives as long as the server."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="wirecrawl-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.port = _free_port()
        data, log = self.folder / "data", self.folder / "log"
        self._run(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "wirecrawl", "-E", "UTF8", "--no-locale",
                  "--no-sync")
        settings = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(_bin("pg_ctl"), "-D", str(data), "-o", settings, "-l", str(log), "-w", "-t", "120", "start")
        self.url = f"postgresql://wirecrawl@127.0.0.1:{self.port}"

    def _run(self, *cmd: str) -> None:
        proc = subprocess.run([*self.as_user, *cmd], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            log = self.folder / "log"
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}"
                               f"{log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        subprocess.run([*self.as_user, _bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server (no database in it)."""
    given = os.environ.get("WIRECRAWL_TEST_POSTGRES")
    if given:
        yield given.rsplit("/", 1)[0] if given.count("/") > 2 else given
        return
    server = _ThrowawayPostgres()
    try:
        yield server.url
    finally:
        server.stop()


class PostgresDatabases:
    """Databases made for one test on the server, dropped after it."""

    def __init__(self, server: str):
        self.server = server
        self.made: list[str] = []

    def new(self, collation: str = "") -> str:
        """A new database; `collation` makes its default collation an ICU locale's ("und": the root one)."""
        import psycopg

        name = f"wc_test_{uuid.uuid4().hex[:12]}"
        icu = f" LOCALE_PROVIDER icu ICU_LOCALE '{collation}' ENCODING 'UTF8'" if collation else ""
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0{icu}')
        self.made.append(name)
        return f"{self.server}/{name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            for name in self.made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_uris(backend, tmp_path, request):
    """`store_uris(name)`: the URI of this test's store called `name`, on its backend."""
    if backend == "sqlite":
        yield lambda name="store": f"sqlite:///{tmp_path / name}.sqlite"
        return
    databases = PostgresDatabases(request.getfixturevalue("postgres_server"))
    # (what a PostgreSQL store keeps on this machine, its band index, goes to the user's cache folder)
    request.getfixturevalue("monkeypatch").setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    named: dict[str, str] = {}
    try:
        yield lambda name="store": named[name] if name in named else named.setdefault(name, databases.new())
    finally:
        databases.drop()


class ThrowawayRedis:
    """A Redis server on a free port of 127.0.0.1 that keeps nothing on disk (so `restart` empties it)."""

    def __init__(self):
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="wirecrawl-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}"
        self._start()

    def _start(self) -> None:
        import time

        import redis

        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server is not installed: run tests/install-services")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:   # polled until it answers, to a deadline
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def restart(self) -> None:
        """Killed and started again on the same port, empty."""
        self.proc.kill()
        self.proc.wait(timeout=60)
        self._start()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server():
    """The URL of a Redis server: WIRECRAWL_TEST_REDIS, else a throwaway one."""
    given = os.environ.get("WIRECRAWL_TEST_REDIS")
    if given:
        yield given.rstrip("/")
        return
    server = ThrowawayRedis()
    try:
        yield server.url
    finally:
        server.stop()


_fleet_dbs = iter(range(1, 16))


@pytest.fixture
def fleet_url(redis_server):
    """A Redis URL for one test's fleet: a database of its own, emptied first (tests take the databases 1-15 in turn)."""
    import redis

    global _fleet_dbs
    try:
        db = next(_fleet_dbs)
    except StopIteration:
        _fleet_dbs = iter(range(1, 16))
        db = next(_fleet_dbs)
    url = f"{redis_server}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url
