"""What only the PostgreSQL store has: a server to reach, databases to make, a writer lock held by a session,
users without the right to write. (The rest of the suite runs on both backends: services.py.)"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from conftest import SEED_PAGES, Wirecrawl
from services import PostgresDatabases, _free_port

from pipelines.model import RawRef
from pipelines.store import ERRORS, NoStore, StoreBusy, StoreError, StoreReadOnly, open_store
from saving import save
from stories_fixtures import article, story


@pytest.fixture
def databases(postgres_server):
    made = PostgresDatabases(postgres_server)
    yield made
    made.drop()


def test_a_reader_of_a_missing_database_says_so_and_a_writer_makes_it(postgres_server, databases, tmp_path):
    uri = f"{postgres_server}/wc_test_missing_{_free_port()}"
    databases.made.append(uri.rsplit("/", 1)[1])
    with pytest.raises(NoStore, match="no store at"):
        open_store(uri, read_only=True)
    w = Wirecrawl(tmp_path, uri)
    proc = w.run("export", "--store", uri, "-o", str(tmp_path / "out.jsonl"), check=False)
    assert proc.returncode == 2 and "no store at" in proc.stderr and "Traceback" not in proc.stderr
    with psycopg.connect(f"{postgres_server}/postgres") as admin:   # nothing was made by the readers
        assert not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (uri.rsplit("/", 1)[1],)).fetchone()
    w.reprocess(SEED_PAGES)
    assert len(w.export()) == 2


def test_a_store_on_a_server_that_is_not_there_is_one_line_and_exit_2(tmp_path):
    uri = f"postgresql://127.0.0.1:{_free_port()}/wirecrawl"
    w = Wirecrawl(tmp_path, uri)
    for args in (["reprocess", str(SEED_PAGES), "--store", uri], ["export", "--store", uri, "-o", "-"],
                 ["dedup-report", "--store", uri, "-o", str(tmp_path / "r.json")]):
        proc = w.run(*args, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and "127.0.0.1" in proc.stderr and "refused" in proc.stderr, proc.stderr


def test_one_writer_at_a_time_and_a_writer_whose_connection_is_cut_can_write_nothing_more(databases):
    uri = databases.new()
    first = open_store(uri)
    lock = first.writer_lock("crawl")
    second = open_store(uri)
    with pytest.raises(StoreBusy, match=r"another crawl is running on store .*pid \d+.*this reprocess exits"):
        second.writer_lock("reprocess")
    wire = story(700)
    save(first, article("https://wire.example/1", wire, "2025-03-01T10:00:00+00:00"), RawRef("x"), "sha", "v")

    # the first writer's session is ended by the server (an administrator, a failover): its lock goes with it
    first_pid = first.db.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert second.db.execute("SELECT pg_terminate_backend(?, 30000)", (first_pid,)).fetchone()[0]   # (waits for it)
    with pytest.raises(ERRORS) as lost:   # (a read's own error, or the write's StoreError)
        save(first, article("https://wire.example/2", wire, "2025-03-01T11:00:00+00:00"), RawRef("x"), "sha", "v")
    assert "the connection to PostgreSQL is gone" in str(first.failure(lost.value))
    lock.release()   # (nothing to release: the session is gone)
    taken = second.writer_lock("reprocess")
    assert [a["fetched_url"] for a in second.iter_articles()] == ["https://wire.example/1"]
    taken.release()
    first.close()
    second.close()


def test_a_user_who_may_not_write_is_told_so_and_can_read(databases, postgres_server):
    uri = databases.new()
    store = open_store(uri)
    save(store, article("https://wire.example/1", story(701), "2025-03-01T10:00:00+00:00"), RawRef("x"), "sha", "v")
    store.close()
    role = f"reader_{_free_port()}"
    with psycopg.connect(uri, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        parts = urlsplit(uri)
        as_reader = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}"))
        assert [a["fetched_url"] for a in open_store(as_reader, read_only=True).iter_articles()] == ["https://wire.example/1"]
        writer = open_store(as_reader)
        with pytest.raises(StoreReadOnly, match="cannot be written by this user"):
            save(writer, article("https://wire.example/2", story(702), "2025-03-01T11:00:00+00:00"), RawRef("x"), "sha", "v")
        writer.close()
    finally:
        with psycopg.connect(uri, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{uri.rsplit("/", 1)[1]}" WITH (FORCE)')
            admin.execute(f'DROP ROLE "{role}"')


def test_text_is_ordered_as_python_orders_it(databases):
    """The store's order (export, report) is the same on both backends: PostgreSQL compares text in the C
    collation, code point by code point, as Python and SQLite do, not by the database's own collation (here
    ICU's root locale, which puts "alpha" before "Zeta" and "Éclair" beside "eclair")."""
    store = open_store(databases.new(collation="und"))
    urls = [f"https://x.example/{tail}" for tail in ("Zeta", "alpha", "Éclair", "eclair", "ämter", "_under", "10", "9")]
    for i, url in enumerate(urls):
        save(store, article(url, story(710 + i), "2025-03-01T10:00:00+00:00"), RawRef("x"), "sha", "v")
    assert [a["fetched_url"] for a in store.iter_articles()] == sorted(urls)
    store.close()


def test_a_store_of_schema_5_is_migrated_when_a_writer_opens_it(databases):
    uri = databases.new()
    store = open_store(uri)
    with store.transaction() as db:
        db.execute("ALTER TABLE articles DROP COLUMN credits")
        db.execute("ALTER TABLE articles DROP COLUMN extracted_title")
        db.execute("UPDATE store_meta SET value='5' WHERE key='schema_version'")
    store.close()
    with pytest.raises(StoreError, match="schema version 5: open it once to write"):
        open_store(uri, read_only=True)
    store = open_store(uri)   # a writer migrates it
    assert store.db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    save(store, article("https://wire.example/1", story(700), "2025-03-01T10:00:00+00:00"), RawRef("x"), "sha", "v")
    assert [a["credits"] for a in store.iter_articles()] == [[]]
    store.close()
