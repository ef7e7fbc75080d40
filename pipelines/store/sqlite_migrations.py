"""The SQLite store's migrations: each older schema brought to the current one when a writer opens it.
Each step is its own transaction and is skipped once done, so an interrupted migration resumes at the next open."""
from __future__ import annotations

import json
import sqlite3
import sys
from typing import Iterator

from ..model import site_of
from ..steps import templates   # (schema 2 -> 3 rewrites each article's lines in the format `templates.split` writes)

SCHEMA_VERSION = "7"
OLDER = ("1", "2", "3", "4", "5", "6")
_V4_COLUMNS = (
    "fetched_url", "url", "canonical_url", "title", "authors", "published", "modified", "site_name",
    "host", "language", "description", "tags", "image", "image_caption", "image_credit", "wire_source",
    "left_out", "text", "fetched_at", "archive_path", "archive_offset", "body_sha1", "extractor_version",
)


def migrate(db: sqlite3.Connection, version: str | None, schema: str) -> None:
    """Bring a store of schema `version` (None: a new one) to SCHEMA_VERSION; `schema` is the current schema."""
    if version == "1":
        _migrate_from_1(db)
    if version in ("1", "2"):
        _migrate_from_2(db)
    if version in ("1", "2", "3"):
        _migrate_from_3(db, schema)
    if version in ("1", "2", "3", "4"):
        _migrate_from_4(db)
    if version in ("1", "2", "3", "4", "5"):
        _migrate_from_5(db)
    if version in OLDER:
        _migrate_from_6(db)


def schema_version(db: sqlite3.Connection) -> str | None:
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


def _migrate_from_5(db: sqlite3.Connection) -> None:
    """Schema 6 keeps what credits a wire on each article (`credits`); older rows have none until they are
    extracted again (the extractor version changed with it)."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        if "credits" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            db.execute("ALTER TABLE articles ADD COLUMN credits TEXT NOT NULL DEFAULT '[]'")
        db.execute("UPDATE store_meta SET value='6' WHERE key='schema_version'")


def _migrate_from_6(db: sqlite3.Connection) -> None:
    """Schema 7 keeps a title as extracted beside it when the host's learned title parts were cut from it;
    older rows have none (nothing was cut)."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        if "extracted_title" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            db.execute("ALTER TABLE articles ADD COLUMN extracted_title TEXT")
        db.execute("UPDATE store_meta SET value='7' WHERE key='schema_version'")


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


