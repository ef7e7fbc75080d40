"""What the two SQL stores share: the rows of runs, pages, crawl state and host templates, in SQL that SQLite
and PostgreSQL both run (qmark parameters: the PostgreSQL store's connection turns them into its own). A
backend opens the connection (`self.db`, with `execute` and `executemany` as sqlite3's), owns transactions,
errors, the writer lock and its schema; the story tables are story_tables.StoryTables over the same
connection."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterator

from ..model import EXPORT_FIELDS, STORY_FIELDS, Article, Known, RawRef, Recleaned, Rejected
from .base import Saving, StoreError
from .story_tables import StoryTables

_ARTICLE_COLUMNS = (
    "fetched_url", "url", "canonical_url", "title", "authors", "published", "modified", "site_name",
    "host", "language", "description", "tags", "image", "image_caption", "image_credit", "wire_source",
    "left_out", "text", "fetched_at", "archive_path", "archive_offset", "body_sha1", "standfirst", "summary",
    "credits", "extracted_title", "extractor_version",   # last: a row equal but for it is unchanged
)
_REJECT_COLUMNS = ("fetched_url", "kind", "reason", "detail", "fetched_at", "archive_path",
                   "archive_offset", "body_sha1", "extractor_version")
_REPLACE_REJECT = ", ".join(f"{c}=excluded.{c}" for c in _REJECT_COLUMNS[1:])
_UNFILED = "INSERT INTO unfiled VALUES (?, ?) ON CONFLICT DO NOTHING"
_DIRTY = "INSERT INTO dirty_hosts VALUES (?) ON CONFLICT DO NOTHING"


class SQLStore:
    """The rows of a wirecrawl store (base.Store), for a backend that sets `db` and `transaction()`."""

    NEW_ARTICLE_ID = "NULL"   # the SQL that gives a new article its id (SQLite: NULL, the next rowid)

    def __init__(self):
        self._db = None
        # Signatures read or written by this process, by id (see StoryTables.signatures_by_id). Coherent
        # because one process writes a store at a time (the writer lock); a rollback empties it.
        self.signature_cache: dict = {}
        self.story_cache: dict[str, int | None] = {}   # fetched_url -> its story (StoryTables.stories_of), same terms
        self.id_cache: dict[str, int] = {}             # fetched_url -> its article id (StoryTables._ids), same terms

    @property
    def db(self):
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    def _forget(self) -> None:
        """What this process remembers of the rows a rollback just undid."""
        self.signature_cache.clear()
        self.story_cache.clear()
        self.id_cache.clear()

    def stories(self) -> StoryTables:
        return StoryTables(self.db, self.signature_cache, self.story_cache, self.id_cache)

    def stream(self, sql: str, params=()) -> Iterator[tuple]:
        """The rows of a large read, as they come."""
        return iter(self.db.execute(sql, params))

    # -- runs ---------------------------------------------------------------------------------
    def begin_run(self, command: str, options: dict) -> int:
        """Record a run as running. Called under the writer lock, so a run still marked running cannot be:
        it was killed (kill -9, a power cut) before it could say how it ended, and is marked so."""
        self.db.execute("UPDATE runs SET status='killed' WHERE status='running'")
        return int(self.db.execute(
            "INSERT INTO runs (command, started_at, status, options) VALUES (?, ?, 'running', ?) RETURNING id",
            (command, _now(), json.dumps(options, sort_keys=True))).fetchone()[0])

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
        return self.save_many([Saving(result, ref, body_sha1, version, url_key)])[0]

    def save_many(self, pages: list[Saving]) -> list[str]:
        """Store pages' outcomes in one transaction, as that many `save`s in this order would, in a few
        statements a batch instead of a few a page; returns each one's 'new', 'updated' or 'unchanged'."""
        out: list[str] = []
        with self.transaction():
            start = 0
            while start < len(pages):   # a page saved twice: what comes before its second time goes first
                urls: set[str] = set()
                end = start
                while end < len(pages) and end - start < 200 and pages[end].result.fetched_url not in urls:
                    urls.add(pages[end].result.fetched_url)
                    end += 1
                out += self._save_distinct(pages[start:end])
                start = end
        return out

    _INSERT_ARTICLE = (f"(COALESCE((SELECT article FROM unfiled WHERE fetched_url=?), {{new_id}}), "
                       f"{', '.join('?' * len(_ARTICLE_COLUMNS))})")

    def _insert_articles(self, rows: list[tuple]) -> dict[str, int]:
        """Insert these article rows; returns fetched_url -> id. One statement for them all (SQLite's
        fastest; PostgreSQL plans each row's subquery, and overrides this)."""
        marks = self._INSERT_ARTICLE.format(new_id=self.NEW_ARTICLE_ID)
        return dict(self.db.execute(f"INSERT INTO articles (id, {', '.join(_ARTICLE_COLUMNS)}) VALUES "
                                    + ", ".join([marks] * len(rows)) + " RETURNING fetched_url, id",
                                    [v for row in rows for v in (row[0], *row)]).fetchall())

    def ping(self) -> None:
        self.db.execute("SELECT 1").fetchone()

    # -- crawl state ----------------------------------------------------------------------------
    def seen(self, url_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM crawl_seen WHERE url_key=?", (url_key,)).fetchone() is not None

    def fetch_state(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT etag, last_modified FROM fetch_state WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def set_fetch_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO fetch_state VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag=excluded.etag, "
                            "last_modified=excluded.last_modified, fetched_at=excluded.fetched_at",
                            (url, etag, last_modified, _now()))

    def _save_distinct(self, pages: list[Saving]) -> list[str]:
        db = self.db
        urls = [p.result.fetched_url for p in pages]
        marks = ", ".join("?" * len(urls))
        db.executemany("INSERT INTO crawl_seen VALUES (?, ?) ON CONFLICT (url_key) DO UPDATE SET fetched_url=excluded.fetched_url",
                       [(p.url_key, p.result.fetched_url) for p in pages if p.url_key is not None])
        old_article = {row[1]: row for row in db.execute(
            f"SELECT id, {', '.join(_ARTICLE_COLUMNS)} FROM articles WHERE fetched_url IN ({marks})", urls)}
        old_reject = {row[0]: row for row in db.execute(
            f"SELECT {', '.join(_REJECT_COLUMNS)} FROM rejects WHERE fetched_url IN ({marks})", urls)}
        out: list[str] = []
        w = _Writes()
        for p in pages:
            if isinstance(p.result, Article):
                out.append(w.article(p, _article_row(p), old_article.get(p.result.fetched_url),
                                     p.result.fetched_url in old_reject))
            else:
                out.append(w.reject(p, _reject_row(p), old_reject.get(p.result.fetched_url),
                                    old_article.get(p.result.fetched_url)))
        if w.rejects_gone:
            db.execute(f"DELETE FROM rejects WHERE fetched_url IN ({', '.join('?' * len(w.rejects_gone))})", w.rejects_gone)
        db.executemany("UPDATE articles SET extractor_version=? WHERE id=?", w.article_versions)
        db.executemany("UPDATE rejects SET extractor_version=? WHERE fetched_url=?", w.reject_versions)
        db.executemany(f"UPDATE articles SET {', '.join(c + '=?' for c in _ARTICLE_COLUMNS)} WHERE id=?", w.updates)
        if w.inserts:   # new; or back from being a rejected page before it was filed: it takes its id back
            made = self._insert_articles(w.inserts)
            self.id_cache.update(made)   # (filing them next needs them)
            w.unfiled += [(url, made[url]) for url in w.inserted]
        if w.articles_gone:
            for url, article_id, host in db.execute(
                    f"DELETE FROM articles WHERE fetched_url IN ({', '.join('?' * len(w.articles_gone))}) "
                    "RETURNING fetched_url, id, host", w.articles_gone).fetchall():
                w.unfiled.append((url, article_id))
                w.lines_gone.append(url)
                if host:
                    w.dirty.add(host)
        if w.lines_gone:
            db.execute(f"DELETE FROM article_lines WHERE fetched_url IN ({', '.join('?' * len(w.lines_gone))})", w.lines_gone)
        db.executemany("INSERT INTO article_lines VALUES (?, ?, ?, ?) ON CONFLICT (fetched_url) DO UPDATE "
                       "SET host=excluded.host, lead=excluded.lead, line_keys=excluded.line_keys", w.lines)
        db.executemany(_UNFILED, sorted(w.unfiled))
        db.executemany(_DIRTY, [(h,) for h in sorted(w.dirty)])
        db.executemany(f"INSERT INTO rejects ({', '.join(_REJECT_COLUMNS)}) VALUES ({', '.join('?' * len(_REJECT_COLUMNS))}) "
                       f"ON CONFLICT (fetched_url) DO UPDATE SET {_REPLACE_REJECT}", w.reject_rows)
        return out

    # -- host templates (decided by steps.templates.HostTemplates) ------------------------------
    def template_keys(self, host: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT line_hash FROM host_templates WHERE host=?", (host,))]

    def dirty_hosts(self) -> list[str]:
        """The hosts whose articles changed since their template lines were last learned."""
        return [r[0] for r in self.db.execute("SELECT host FROM dirty_hosts ORDER BY host")]

    def host_lines(self, host: str) -> list[tuple[str, str]]:
        """(lead key, candidate keys) of each of the host's articles."""
        return self.db.execute("SELECT lead, line_keys FROM article_lines WHERE host=?", (host,)).fetchall()

    def host_texts(self, host: str) -> list[tuple[int, str, str, str, str | None, str | None]]:
        """(id, fetched_url, left_out, text, title, extracted_title) of each of the host's articles."""
        return self.db.execute("SELECT id, fetched_url, left_out, text, title, extracted_title FROM articles "
                               "WHERE host=?", (host,)).fetchall()

    def articles_of(self, host: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE host=?", (host,)).fetchone()[0]

    def save_templates(self, host: str, keys: list[str] | None, recleaned: list[Recleaned]) -> None:
        """The host's template lines learned again: its new lines (None: they stay) and the texts that
        or titles changed with them; those whose text changed are marked for filing."""
        with self.transaction() as db:
            if keys is not None:
                db.execute("DELETE FROM host_templates WHERE host=?", (host,))
                db.executemany("INSERT INTO host_templates VALUES (?, ?)", [(host, k) for k in keys])
            for r in recleaned:
                db.execute("UPDATE articles SET text=?, left_out=?, title=?, extracted_title=? WHERE id=?",
                           (r.text, r.left_out, r.title, r.extracted_title, r.article))
                if r.text_changed:
                    db.execute(_UNFILED, (r.fetched_url, r.article))
            db.execute("DELETE FROM dirty_hosts WHERE host=?", (host,))

    # -- reading ------------------------------------------------------------------------------
    def iter_articles(self) -> Iterator[dict]:
        """Every article with its place in its story, and its story's origin's host and credits
        (`origin_host`, `origin_credits`: what stories.credit needs)."""
        fields = [f for f in EXPORT_FIELDS if f != "uncredited"]
        columns = ", ".join("st.story_id" if f == "story_id" else f"m.{f}" if f in STORY_FIELDS else f"a.{f}"
                            for f in fields)
        for row in self.stream(f"SELECT {columns}, o.host, o.credits FROM articles a "
                               "LEFT JOIN story_members m ON m.article = a.id LEFT JOIN stories st ON st.id = m.story "
                               "LEFT JOIN articles o ON o.fetched_url = st.origin_url ORDER BY a.url, a.fetched_url"):
            item = dict(zip(fields, row))
            for key in ("authors", "tags", "summary", "credits"):
                item[key] = json.loads(item[key])
            item["origin_host"], item["origin_credits"] = row[-2], json.loads(row[-1]) if row[-1] else []
            yield item


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _article_row(p: Saving) -> tuple:
    a = p.result
    if a.body is None:
        raise ValueError(f"{a.fetched_url}: an article is cleaned for its host (templates.HostTemplates) before it is stored")
    return (a.fetched_url, a.url, a.canonical_url, a.body.title, json.dumps(a.authors), a.published,
            a.modified, a.site_name, a.host, a.language, a.description, json.dumps(a.tags), a.image,
            a.image_caption, a.image_credit, a.wire_source, a.body.left_out, a.body.text, a.fetched_at, p.ref.path,
            p.ref.offset, p.body_sha1, a.standfirst, json.dumps(a.summary), json.dumps(a.credits), a.body.extracted_title,
            p.version)


def _reject_row(p: Saving) -> tuple:
    r = p.result
    return (r.fetched_url, r.kind, r.reason, r.detail, r.fetched_at, p.ref.path, p.ref.offset, p.body_sha1, p.version)


class _Writes:
    """What a batch of distinct pages writes, decided page by page as `save` decides one (SQLStore._save_distinct)."""

    def __init__(self):
        self.rejects_gone: list[str] = []          # rejected pages that are articles now
        self.articles_gone: list[str] = []         # articles that are rejected pages now
        self.article_versions: list[tuple] = []    # (version, id): the same row from another extractor
        self.reject_versions: list[tuple] = []
        self.updates: list[tuple] = []             # articles changed in place: they keep their ids
        self.inserts: list[tuple] = []
        self.inserted: list[str] = []
        self.unfiled: list[tuple[str, int]] = []
        self.dirty: set[str] = set()
        self.lines: list[tuple] = []
        self.lines_gone: list[str] = []
        self.reject_rows: list[tuple] = []

    def article(self, p: Saving, row: tuple, old: tuple | None, was_rejected: bool) -> str:
        a = p.result
        existed = old is not None or was_rejected
        if old is None and was_rejected:
            self.rejects_gone.append(a.fetched_url)
        if old is not None and old[1:-1] == row[:-1]:
            if old[-1] != p.version:   # a new extractor gave the same row: note who made it, nothing changed
                self.article_versions.append((p.version, old[0]))
            return "unchanged"
        if old is not None:
            self.updates.append(row + (old[0],))
            self.unfiled.append((a.fetched_url, old[0]))
        else:
            self.inserts.append(row)
            self.inserted.append(a.fetched_url)
        if a.host:
            self.dirty.add(a.host)
            self.lines.append((a.fetched_url, a.host, a.body.lead, a.body.candidates))
        else:
            self.lines_gone.append(a.fetched_url)
        return "updated" if existed else "new"

    def reject(self, p: Saving, row: tuple, old: tuple | None, old_article: tuple | None) -> str:
        r = p.result
        if old is not None and old[:-1] == row[:-1]:
            if old[-1] != p.version:
                self.reject_versions.append((p.version, r.fetched_url))
            return "unchanged"
        if old_article is not None:
            self.articles_gone.append(r.fetched_url)
        self.reject_rows.append(row)
        return "updated" if old is not None or old_article is not None else "new"
