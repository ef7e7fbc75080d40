"""The story tables of the store (signatures, links, stories, members, unfiled), used by pipelines.stories:
SQL that SQLite and PostgreSQL both run (qmark parameters; the PostgreSQL store's connection turns them into
its own), over the store's connection. Callers own the transactions. Every read whose order matters says
it (ORDER BY, NULLS FIRST as SQLite has it), so both backends give the same rows in the same order."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
from typing import Iterator

import numpy as np

from ..model import Arrangement, Member, Signature


_CACHE_LIMIT = 100_000   # signatures kept in memory (~0.9 KB each, ~90 MB at most); the oldest go first
_STORY_CACHE_LIMIT = 200_000   # articles whose story is kept in memory (~0.2 KB each)
_ID_CACHE_LIMIT = 500_000      # articles whose id is kept in memory (~0.2 KB each)


class StoryTables:
    """The story tables refer to articles by id (articles.id), filing by URL: this class turns one into the
    other. Each URL's id is remembered as it is read; one not seen yet is looked up (_ids)."""

    def __init__(self, db, signature_cache: dict[int, Signature] | None = None, story_cache: dict[str, int | None] | None = None,
                 id_cache: dict[str, int] | None = None):
        self.db = db
        self._cache = {} if signature_cache is None else signature_cache
        # Each article's story, as read or written here: every write of story_members goes through this
        # class, so it stays true (a rollback empties it). A copy joining a story of n members looks up the
        # story of each of its n candidates: from memory, not n index reads.
        self._stories = {} if story_cache is None else story_cache
        self._id = {} if id_cache is None else id_cache   # fetched_url -> article id (a rollback empties it)

    # -- parameters -----------------------------------------------------------------------------
    def params(self) -> dict | None:
        row = self.db.execute("SELECT value FROM store_meta WHERE key='dedup_params'").fetchone()
        return json.loads(row[0]) if row else None

    def set_params(self, params: dict) -> None:
        self.db.execute("DELETE FROM store_meta WHERE key='dedup_params'")
        self.db.execute("INSERT INTO store_meta VALUES ('dedup_params', ?)", (json.dumps(params, sort_keys=True),))

    def epoch(self) -> str | None:
        """Changes whenever the signatures are cleared, so an index saved before is not reused."""
        row = self.db.execute("SELECT value FROM store_meta WHERE key='dedup_epoch'").fetchone()
        return row[0] if row else None

    # -- article ids ----------------------------------------------------------------------------
    def _ids(self, urls: list[str]) -> list[int | None]:
        """The article id of each url (None for one with no id: never stored, or gone and filed). A page
        gone since it was last filed is no longer in `articles`, but its `unfiled` row keeps its id."""
        known = self._id
        missing = [u for u in urls if u not in known]
        found: dict[str, int] = {}
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(self.db.execute(
                f"SELECT fetched_url, id FROM articles WHERE fetched_url IN ({marks}) UNION ALL "
                f"SELECT fetched_url, article FROM unfiled WHERE fetched_url IN ({marks})", chunk + chunk))
        result = [known[u] if u in known else found.get(u) for u in urls]
        self._note_ids(found.items())   # (after: it may empty `known`)
        return result

    def _id_of(self, url: str) -> int | None:
        found = self._id.get(url)
        return found if found is not None else self._ids([url])[0]

    def _note_ids(self, pairs) -> None:
        if len(self._id) > _ID_CACHE_LIMIT:
            self._id.clear()
        self._id.update(pairs)

    # -- what needs filing ----------------------------------------------------------------------
    def unfiled(self) -> list[str]:
        """Pages whose article changed (or vanished) since they were last filed, oldest first."""
        rows = self.db.execute(
            "SELECT u.fetched_url, u.article FROM unfiled u LEFT JOIN articles a ON a.id = u.article "
            "ORDER BY COALESCE(a.published, a.fetched_at) NULLS FIRST, u.fetched_url").fetchall()
        self._note_ids(rows)
        return [url for url, _ in rows]

    def mark_all_unfiled(self) -> None:
        self.db.execute("INSERT INTO unfiled SELECT fetched_url, id FROM articles WHERE true ON CONFLICT DO NOTHING")

    def filed(self, fetched_urls: list[str]) -> None:
        for k in range(0, len(fetched_urls), 500):
            chunk = fetched_urls[k:k + 500]
            self.db.execute(f"DELETE FROM unfiled WHERE fetched_url IN ({', '.join('?' * len(chunk))})", chunk)
        for url in fetched_urls:
            self._id.pop(url, None)   # (a page gone and filed has no id any more)

    def clear(self, keep_signatures: bool = False) -> None:
        """Forget every signature, link and story (a rebuild); with `keep_signatures`, the signatures of the
        articles filed since their text last changed are set aside first (take_kept_signature)."""
        self.db.execute("DELETE FROM kept_signatures")
        if keep_signatures:
            rows = self.db.execute(
                "SELECT s.fetched_url, a.text, s.text_hash, s.minhash, s.shingles FROM signatures s "
                "JOIN articles a ON a.id = s.article WHERE s.fetched_url NOT IN (SELECT fetched_url FROM unfiled)")
            while chunk := rows.fetchmany(1000):
                self.db.executemany("INSERT INTO kept_signatures VALUES (?, ?, ?, ?, ?)",
                                    [(url, text_sha1(text), h, m, sh) for url, text, h, m, sh in chunk])
        self._cache.clear()
        self._stories.clear()
        for table in ("signatures", "links", "stories", "story_members"):
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("DELETE FROM store_meta WHERE key='dedup_epoch'")
        self.db.execute("INSERT INTO store_meta VALUES ('dedup_epoch', ?)", (os.urandom(8).hex(),))

    # -- articles and signatures ----------------------------------------------------------------
    def articles(self, urls: list[str]) -> dict[str, dict]:
        """fetched_url -> {id, host, published, fetched_at, text} of those urls that are stored articles."""
        out = {}
        for k in range(0, len(urls), 500):
            chunk = urls[k:k + 500]
            for row in self.db.execute("SELECT fetched_url, id, host, published, fetched_at, text FROM articles "
                                       f"WHERE fetched_url IN ({', '.join('?' * len(chunk))})", chunk):
                out[row[0]] = dict(zip(("id", "host", "published", "fetched_at", "text"), row[1:]))
        self._note_ids((url, a["id"]) for url, a in out.items())
        return out

    def put_signatures(self, rows: list[tuple[str, str, str, np.ndarray, np.ndarray]]) -> list[int]:
        """Store the signatures (url, t, text_hash, minhash, shingles), of distinct articles, replacing their
        previous ones; returns their new ids, given in this order."""
        articles = self._ids([url for url, *_ in rows])
        new_id: dict[int, int] = {}
        for k in range(0, len(rows), 500):
            chunk = articles[k:k + 500]
            for (sig_id,) in self.db.execute(
                    f"DELETE FROM signatures WHERE article IN ({', '.join('?' * len(chunk))}) RETURNING id", chunk).fetchall():
                self._cache.pop(sig_id, None)
            values = [v for (url, t, text_hash, minhash, shingles), article in zip(rows[k:k + 500], chunk)
                      for v in (article, url, t, text_hash, len(shingles), minhash.astype("<u4").tobytes(),
                                shingles.astype("<u4").tobytes())]
            # one statement for the chunk: its rows take their ids in order (RETURNING's order is not theirs)
            new_id.update((article, sig_id) for article, sig_id in self.db.execute(
                "INSERT INTO signatures (article, fetched_url, t, text_hash, n_shingles, minhash, shingles) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)) + " RETURNING article, id", values).fetchall())
        ids = [new_id[article] for article in articles]
        self._remember([Signature(sig_id, url, t, len(shingles), minhash.astype(np.uint32), article)
                        for sig_id, article, (url, t, _, minhash, shingles) in zip(ids, articles, rows)])
        return ids

    def has_kept_signatures(self) -> bool:
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM kept_signatures)").fetchone()[0] == 1

    def take_kept_signature(self, fetched_url: str, text: str) -> tuple[str, np.ndarray, np.ndarray] | None:
        """(text_hash, minhash, shingles) of the signature set aside for this article, when it was made from
        this text; the row goes either way."""
        row = self.db.execute("DELETE FROM kept_signatures WHERE fetched_url=? RETURNING text_sha1, text_hash, minhash, shingles",
                              (fetched_url,)).fetchone()
        if row is None or row[0] != text_sha1(text):
            return None
        return row[1], np.frombuffer(row[2], dtype="<u4").astype(np.uint32), np.frombuffer(row[3], dtype="<u4").astype(np.uint32)

    def drop_kept_signatures(self) -> None:
        self.db.execute("DELETE FROM kept_signatures")

    def delete_signature(self, fetched_url: str) -> None:
        for (sig_id,) in self.db.execute("DELETE FROM signatures WHERE article=? RETURNING id",
                                         (self._id_of(fetched_url),)).fetchall():
            self._cache.pop(sig_id, None)

    def newest_t(self) -> str | None:
        return self.db.execute("SELECT MAX(t) FROM signatures").fetchone()[0]

    def max_signature_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM signatures").fetchone()[0]

    def ids_since(self, t: str) -> np.ndarray:
        return np.fromiter((r[0] for r in self.db.execute("SELECT id FROM signatures WHERE t >= ?", (t,))), dtype=np.int64)

    _SIG = "SELECT id, fetched_url, t, n_shingles, minhash, article FROM signatures"

    def signatures_between(self, t0: str, t1: str) -> list[Signature]:
        """The signatures with t0 <= t <= t1."""
        return [_sig(r) for r in self.db.execute(self._SIG + " WHERE t >= ? AND t <= ? ORDER BY id", (t0, t1))]

    def signatures_after(self, after_id: int, since_t: str) -> Iterator[Signature]:
        """The signatures newer than id `after_id` with t >= since_t."""
        for r in self.db.execute(self._SIG + " WHERE id > ? AND t >= ? ORDER BY id", (after_id, since_t)):
            yield _sig(r)

    def signatures_by_id(self, ids: list[int]) -> list[Signature]:
        """The signatures of those ids that are stored, in id order. Candidates
        are mostly the recent articles of the same stories, so most come from memory. An id found gone (a
        band index entry of a signature made again since) is remembered as None: ids are never given twice,
        so it stays gone (but for a rollback, which empties the memory)."""
        cache = self._cache
        missing = [i for i in ids if i not in cache]
        for k in range(0, len(missing), 500):
            chunk = missing[k:k + 500]
            self._remember([_sig(r) for r in self.db.execute(
                self._SIG + f" WHERE id IN ({', '.join('?' * len(chunk))})", chunk)])
            for i in chunk:
                cache.setdefault(i, None)
        return [cache[i] for i in sorted(ids) if cache.get(i) is not None]

    def _remember(self, rows: list[tuple]) -> None:
        cache = self._cache
        for row in rows:
            cache[row[0]] = row
        self._note_ids([(row[1], row[5]) for row in rows])
        if len(cache) > _CACHE_LIMIT:
            for key in list(itertools.islice(cache, len(cache) - _CACHE_LIMIT * 3 // 4)):
                del cache[key]

    def signature(self, fetched_url: str) -> Signature | None:
        """An article's signature, or None."""
        row = self.db.execute(self._SIG + " WHERE article=?", (self._id_of(fetched_url),)).fetchone()
        return _sig(row) if row else None

    def shingles(self, fetched_url: str) -> np.ndarray:
        row = self.db.execute("SELECT shingles FROM signatures WHERE article=?", (self._id_of(fetched_url),)).fetchone()
        return np.frombuffer(row[0], dtype="<u4").astype(np.uint32) if row else np.zeros(0, np.uint32)

    # -- links and components -------------------------------------------------------------------
    def neighbours_of(self, urls: list[str]) -> dict[str, list[str]]:
        """url -> the articles it is linked to, for each of these urls."""
        url_of = {i: u for u, i in zip(urls, self._ids(urls)) if i is not None}
        found: dict[str, set[str]] = {u: set() for u in urls}
        ids = list(url_of)
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT l.a, s.fetched_url, s.article FROM links l JOIN signatures s ON s.article = l.b WHERE l.a IN ({marks}) "
                f"UNION ALL SELECT l.b, s.fetched_url, s.article FROM links l JOIN signatures s ON s.article = l.a "
                f"WHERE l.b IN ({marks})", chunk + chunk).fetchall()
            self._note_ids([(url, article) for _, url, article in rows])
            for me, url, _ in rows:
                found[url_of[me]].add(url)
        return {u: sorted(partners) for u, partners in found.items()}

    def put_links(self, links: list[tuple[str, list[tuple[str, float, float]]]]) -> None:
        """Links of each url to each of its (partner, jaccard, containment); a link is stored once, as (a < b)."""
        urls = [url for url, _ in links]
        partners = [other for _, found in links for other, _, _ in found]
        ids = dict(zip(urls + partners, self._ids(urls + partners)))
        self.db.executemany("INSERT INTO links VALUES (?, ?, ?, ?) ON CONFLICT (a, b) DO UPDATE "
                            "SET jaccard=excluded.jaccard, containment=excluded.containment",
                            [(min(ids[url], ids[other]), max(ids[url], ids[other]), round(j, 4), round(c, 4))
                             for url, found in links for other, j, c in found])

    def delete_links(self, fetched_urls: list[str]) -> None:
        """Every link of these articles."""
        ids = [i for i in self._ids(fetched_urls) if i is not None]
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            marks = ", ".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM links WHERE a IN ({marks}) OR b IN ({marks})", chunk + chunk)

    def story_urls(self, stories: list[int]) -> dict[int, list[str]]:
        """story -> the urls of its members, for each of these stories."""
        out: dict[int, list[str]] = {story: [] for story in stories}
        ids = sorted(set(stories))
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            rows = self.db.execute("SELECT m.story, s.fetched_url, s.article FROM story_members m JOIN signatures s "
                                   f"ON s.article = m.article WHERE m.story IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
            self._note_ids([(url, article) for _, url, article in rows])
            for story, url, _ in rows:
                out[story].append(url)
        return out

    def members(self, urls: list[str]) -> list[tuple[Member, int | None, str | None, float | None, str | None]]:
        """(member, its current story, that story's origin, its similarity, its relation) for each filed url."""
        out = []
        ids = [i for i in self._ids(urls) if i is not None]
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            rows = self.db.execute(
                "SELECT s.fetched_url, a.host, s.t, a.published IS NOT NULL, s.text_hash, s.article, m.story, st.origin_url, "
                "m.similarity, m.relation FROM signatures s JOIN articles a ON a.id = s.article "
                "LEFT JOIN story_members m ON m.article = s.article "
                "LEFT JOIN stories st ON st.id = m.story "
                f"WHERE s.article IN ({', '.join('?' * len(chunk))})", chunk)
            out += [(_member(r), r[6], r[7], r[8], r[9]) for r in rows]
        return sorted(out, key=lambda m: m[0].fetched_url)

    # -- stories --------------------------------------------------------------------------------
    def stories_of(self, urls: list[str]) -> list[int | None]:
        """The story of each url (None for one that is in no story): the id of the story's origin article."""
        known = self._stories
        missing = [u for u in urls if u not in known]
        found: dict[str, int] = {}
        if missing:
            url_of = {i: u for u, i in zip(missing, self._ids(missing)) if i is not None}
            ids = list(url_of)
            for k in range(0, len(ids), 500):
                chunk = ids[k:k + 500]
                found.update((url_of[a], story) for a, story in self.db.execute(
                    f"SELECT article, story FROM story_members WHERE article IN ({', '.join('?' * len(chunk))})", chunk))
        result = [known[u] if u in known else found.get(u) for u in urls]
        if missing:
            self._note_stories([(u, found.get(u)) for u in missing])
        return result

    def story_of(self, fetched_url: str) -> int | None:
        return self.stories_of([fetched_url])[0]

    def _note_stories(self, pairs: list[tuple[str, int | None]]) -> None:
        if len(self._stories) > _STORY_CACHE_LIMIT:
            self._stories.clear()
        self._stories.update(pairs)

    def put_stories(self, stories: list[tuple[Arrangement, dict[str, Member], dict[str, float], set[str]]]) -> list[int]:
        """Write each story (arrangement, its members by url, their similarities, the urls `unchanged`: already
        stored as they are) and its member rows; returns their keys (each the id of its origin article)."""
        keys = [members[arr.origin].id for arr, members, _, _ in stories]
        self.db.executemany("INSERT INTO stories VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                            "story_id=excluded.story_id, origin_url=excluded.origin_url, reason=excluded.reason, "
                            "size=excluded.size",
                            [(key, arr.story_id, arr.origin, arr.reason, len(arr.relations))
                             for key, (arr, _, _, _) in zip(keys, stories)])
        self.db.executemany(_PUT_MEMBER, [
            (members[url].id, key, rel, round(similarity[url], 4), members[url].t, members[url].site)
            for key, (arr, members, similarity, unchanged) in zip(keys, stories)
            for url, rel in sorted(arr.relations.items()) if url not in unchanged])
        self._note_stories([(url, key) for key, (arr, _, _, _) in zip(keys, stories) for url in arr.relations])
        return keys

    _MEMBER = ("SELECT s.fetched_url, a.host, s.t, a.published IS NOT NULL, s.text_hash, s.article, m.relation "
               "FROM story_members m JOIN signatures s ON s.article = m.article JOIN articles a ON a.id = m.article ")

    def story_head(self, story: int) -> list[Member]:
        """The story's members tied on time with its first two: every member that can rank first or second
        (none for a story of one)."""
        rows = self.db.execute(
            self._MEMBER + "WHERE m.story=? AND m.t <= (SELECT t FROM story_members WHERE story=? "
            "ORDER BY t LIMIT 1 OFFSET 1)", (story, story)).fetchall()
        return [_member(r) for r in rows]

    def story_members_on_site(self, story: int, site: str) -> list[tuple[Member, str]]:
        """(member, relation) of the story's members on this site (its host, or www., m., ... of it)."""
        rows = self.db.execute(self._MEMBER + "WHERE m.story=? AND m.site=?", (story, site)).fetchall()
        return [(_member(r), r[6]) for r in rows]

    def set_relations(self, changed: dict[str, str]) -> None:
        urls = sorted(changed)
        self.db.executemany("UPDATE story_members SET relation=? WHERE article=?",
                            [(changed[url], article) for url, article in zip(urls, self._ids(urls))])

    def add_members(self, story: int, rows: list[tuple[Member, str, float]]) -> None:
        """New members (member, relation, similarity) of a story whose origin and other members stay as they are."""
        self.db.executemany(_PUT_MEMBER, [(m.id, story, rel, round(sim, 4), m.t, m.site) for m, rel, sim in rows])
        self._note_stories([(m.fetched_url, story) for m, _, _ in rows])
        self.db.execute("UPDATE stories SET size = size + ? WHERE id=?", (len(rows), story))

    def drop_member(self, fetched_url: str) -> None:
        self.db.execute("DELETE FROM story_members WHERE article=?", (self._id_of(fetched_url),))
        self._stories[fetched_url] = None

    def drop_story_if_empty(self, story: int) -> None:
        if not self.db.execute("SELECT 1 FROM story_members WHERE story=? LIMIT 1", (story,)).fetchone():
            self.db.execute("DELETE FROM stories WHERE id=?", (story,))

    def totals(self) -> dict[str, int]:
        articles, = self.db.execute("SELECT COUNT(*) FROM articles").fetchone()
        stories, = self.db.execute("SELECT COUNT(*) FROM stories").fetchone()
        syndicated, copies, others = self.db.execute(
            "SELECT COUNT(DISTINCT CASE WHEN relation = 'syndicated' THEN story END), "
            "COALESCE(SUM(CASE WHEN relation = 'syndicated' THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN relation IN ('revision', 'duplicate') THEN 1 ELSE 0 END), 0) "
            "FROM story_members").fetchone()
        return {"articles": articles, "stories": stories, "syndicated_stories": syndicated, "copies": copies,
                "other_versions": others}

    def texts(self, fetched_urls: list[str]) -> dict[str, str]:
        """fetched_url -> cleaned text, for the report's diffs."""
        out: dict[str, str] = {}
        for i in range(0, len(fetched_urls), 500):
            chunk = fetched_urls[i:i + 500]
            out.update(self.db.execute(
                f"SELECT fetched_url, text FROM articles WHERE fetched_url IN ({', '.join('?' * len(chunk))})", chunk))
        return out

    def report_rows(self) -> Iterator[tuple]:
        """Every story member with what the report shows, grouped by story."""
        yield from self.db.execute(
            "SELECT st.story_id, st.origin_url, st.reason, a.fetched_url, a.url, a.host, a.title, s.t, a.published, "
            "a.wire_source, m.relation, m.similarity, a.standfirst, a.credits FROM story_members m "
            "JOIN stories st ON st.id = m.story JOIN articles a ON a.id = m.article "
            "JOIN signatures s ON s.article = m.article ORDER BY m.story, s.t, a.fetched_url")


_PUT_MEMBER = ("INSERT INTO story_members (article, story, relation, similarity, t, site) VALUES (?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (article) DO UPDATE SET story=excluded.story, relation=excluded.relation, "
               "similarity=excluded.similarity, t=excluded.t, site=excluded.site")


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _sig(row) -> Signature:
    return Signature(row[0], row[1], row[2], row[3], np.frombuffer(row[4], dtype="<u4").astype(np.uint32), row[5])


def _member(r: tuple) -> Member:
    return Member(r[0], r[1] or "", r[2], bool(r[3]), r[4], r[5])
