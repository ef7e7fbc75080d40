"""Stores as older wirecrawls wrote them, made from a store this one wrote, to test their migration."""
from __future__ import annotations

import sqlite3
from pathlib import Path

# Tables whose rows schema 3 kept as schema 4 does (same columns), and those keyed by URL in schema 3.
_SAME = ("store_meta", "runs", "rejects", "article_lines", "host_templates", "dirty_hosts", "kept_signatures",
         "crawl_seen", "fetch_state")


def as_schema_3(source: Path, target: Path) -> None:
    """Write into a new store `target` the rows of the (closed) store `source` as schema 3 kept them: no
    article ids, the story tables keyed by URL (tests/schema_v3.sql)."""
    db = sqlite3.connect(target)
    db.executescript((Path(__file__).parent / "schema_v3.sql").read_text())
    db.execute("ATTACH ? AS new", (str(source),))
    for table in _SAME:
        columns = ", ".join(r[1] for r in db.execute(f"PRAGMA main.table_info({table})"))
        db.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM new.{table}")
    columns = ", ".join(r[1] for r in db.execute("PRAGMA main.table_info(articles)"))
    db.execute(f"INSERT INTO main.articles ({columns}) SELECT {columns} FROM new.articles ORDER BY id")
    db.execute("INSERT INTO main.signatures SELECT id, fetched_url, t, text_hash, n_shingles, minhash, shingles "
               "FROM new.signatures ORDER BY id")
    db.execute("UPDATE main.sqlite_sequence SET seq = (SELECT seq FROM new.sqlite_sequence WHERE name='signatures') "
               "WHERE name='signatures'")
    db.execute("INSERT INTO main.links SELECT MIN(sa.fetched_url, sb.fetched_url), MAX(sa.fetched_url, sb.fetched_url), "
               "l.jaccard, l.containment FROM new.links l JOIN new.signatures sa ON sa.article = l.a "
               "JOIN new.signatures sb ON sb.article = l.b")
    db.execute("INSERT INTO main.stories SELECT story_id, origin_url, reason, size FROM new.stories")
    db.execute("INSERT INTO main.story_members SELECT s.fetched_url, st.story_id, m.relation, m.similarity, m.t, m.site "
               "FROM new.story_members m JOIN new.signatures s ON s.article = m.article JOIN new.stories st ON st.id = m.story")
    db.execute("INSERT INTO main.unfiled SELECT fetched_url FROM new.unfiled")
    db.execute("UPDATE main.store_meta SET value='3' WHERE key='schema_version'")
    db.commit()
    db.close()


def story_rows(db) -> dict[str, list]:
    """What a store's story tables hold, by URL (article ids differ from store to store)."""
    q = lambda sql: sorted(db.execute(sql).fetchall())  # noqa: E731
    return {
        "signatures": q("SELECT s.id, s.fetched_url, s.t, s.text_hash, s.n_shingles, s.minhash, s.shingles, a.fetched_url "
                        "FROM signatures s LEFT JOIN articles a ON a.id = s.article"),
        "links": q("SELECT CASE WHEN sa.fetched_url < sb.fetched_url THEN sa.fetched_url ELSE sb.fetched_url END, "
                   "CASE WHEN sa.fetched_url < sb.fetched_url THEN sb.fetched_url ELSE sa.fetched_url END, l.jaccard, l.containment "
                   "FROM links l LEFT JOIN signatures sa ON sa.article = l.a LEFT JOIN signatures sb ON sb.article = l.b"),
        "stories": q("SELECT st.story_id, st.origin_url, o.fetched_url, st.reason, st.size FROM stories st "
                     "LEFT JOIN signatures o ON o.article = st.id"),
        "members": q("SELECT s.fetched_url, st.story_id, m.relation, m.similarity, m.t, m.site FROM story_members m "
                     "LEFT JOIN signatures s ON s.article = m.article LEFT JOIN stories st ON st.id = m.story"),
        "unfiled": q("SELECT u.fetched_url, a.fetched_url FROM unfiled u LEFT JOIN articles a ON a.id = u.article"),
        "articles": q("SELECT fetched_url, text, left_out, title, published FROM articles"),
    }
