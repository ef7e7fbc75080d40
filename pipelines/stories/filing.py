"""Filing articles into stories: fingerprint, find candidates, verify, link, and re-arrange the
affected stories. A page just stored is filed in the transaction that stored it; what is not filed yet is
listed in the store (`unfiled`) and filed 500 to a transaction, so a killed run catches up on its next
start.

A story is a connected component of the graph of verified pairs. Only enough of those pairs are stored
as links to connect each story: an article links to its best verified partner in each story it matches,
not to every member, so a wire story carried by hundreds of outlets costs one link per copy, not one per
pair. The stories are still exactly the components of all verified pairs (each newcomer joins every story
it matches, which is how those components grow), whatever the arrival order. When an article leaves a
story or stops matching one it was linked to, the story's other members are linked again from scratch,
since the links it took away may have been the only stored path between them.
Origin and relations depend only on the members (origin.py), so they never depend on arrival order either.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from ..model import Article
from ..options import SIGNATURE_PARAMS, DedupOptions
from ..steps import templates
from .fingerprint import Fingerprint, Signer
from .index import WindowIndex, shift
from .origin import arrange, rank, story_id
from .verify import decide, estimate_many, exact, linked


class DedupParamsMismatch(Exception):
    """The store's stories were built with other parameters; the message says which and how to rebuild."""


@dataclass
class FilingCounts:
    filed: int = 0
    links: int = 0
    stories_joined: int = 0
    late: int = 0
    exact_checks: int = 0
    relinked: int = 0   # members of a story linked again because one of them left it or changed
    extended: int = 0   # stories that only gained later members, written without re-arranging them


@dataclass
class _Signed:
    """An article's signature as filing uses it."""
    t: str
    n: int
    minhash: np.ndarray
    shingles: np.ndarray | None = None   # read from the store when an exact count needs them
    sig_id: int | None = None            # set when just stored: it joins the index when it is linked


class _Groups:
    """Union-find over the articles being linked ("u:<url>") and the untouched stories they meet ("s:<key>",
    a story's key being its origin's article id: StoryTables)."""
    def __init__(self):
        self.parent: dict[str, str] = {}
        self.seen: set[str] = set()   # every node a union touched

    def find(self, node: str) -> str:
        parent = self.parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(node, node) != root:
            parent[node], node = root, parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        self.seen |= {a, b}
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class Stories:
    def __init__(self, store, options: DedupOptions, rebuild: bool = False):
        self.store = store
        self.options = options
        self.tables = store.stories()
        self.signer = Signer(options)
        self.window = timedelta(days=options.window_days)
        self.counts = FilingCounts()
        self._check(rebuild)
        self._kept_signatures = self.tables.has_kept_signatures()   # set aside by a rebuild, not yet taken back
        self.index = WindowIndex(options, self.tables, store.sidecar("bands"))

    def close(self) -> None:
        """Save the candidate index for a fast start next time (if that fails, the next start rebuilds
        it from the store: nothing is lost)."""
        try:
            self.index.save()
        except OSError as exc:
            print(f"wirecrawl: could not save the band index ({exc}); the next run rebuilds it", file=sys.stderr)

    # -- opening ------------------------------------------------------------------------------
    def _check(self, rebuild: bool) -> None:
        wanted = asdict(self.options)
        stored = self.tables.params()
        if stored is not None and stored != wanted and not rebuild:
            diff = ", ".join(f"{k} {stored.get(k)!r} -> {wanted.get(k)!r}"
                             for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k))
            raise DedupParamsMismatch(
                f"the store's stories were built with other dedup parameters ({diff}); run "
                f"`scrapy reprocess --rebuild-stories` to rebuild them from the stored articles, or set the "
                f"DEDUP_* settings back")
        if stored is None or rebuild:
            reuse = stored is not None and all(stored.get(k) == wanted[k] for k in SIGNATURE_PARAMS)
            with self.store.transaction():
                self.tables.clear(keep_signatures=reuse)
                self.tables.mark_all_unfiled()
                self.tables.set_params(wanted)
            WindowIndex.discard(self.store.sidecar("bands"))

    # -- filing -------------------------------------------------------------------------------
    def file_unfiled(self) -> int:
        """File every article whose text changed since it was last filed; returns how many. 500 to a
        transaction (still all or nothing, and resumable), each story they touch re-arranged once, not
        once per article (a template learned on a host re-files many members of the same large stories)."""
        todo = self.tables.unfiled()
        for start in range(0, len(todo), 500):
            with self.store.transaction():
                self._file_many(todo[start:start + 500])
                self.tables.filed(todo[start:start + 500])
        if self._kept_signatures:   # every article is filed: what a rebuild set aside and nobody took is stale
            with self.store.transaction():
                self.tables.drop_kept_signatures()
            self._kept_signatures = False
        return len(todo)

    def file(self, url: str, extracted: Article | None = None) -> str | None:
        """(Re)file one article (or drop it, when it is no longer an article); returns its story_id."""
        return self.file_all({url: extracted}).get(url)

    def file_all(self, pages: dict[str, Article | None]) -> dict[str, str]:
        """(Re)file these articles together (or drop those that are no longer articles): linked first, each
        story they touch re-arranged once; returns url -> story_id. Each url's article, when it is the one
        just stored, lends the line words its worker hashed for its fingerprint."""
        with self.store.transaction():
            stories = self._file_many(list(pages), {u: a for u, a in pages.items() if a is not None})
            self.tables.filed(list(pages))
        return stories

    def _file_many(self, urls: list[str], extracted: dict[str, Article] | None = None) -> dict[str, str]:
        """Sign these articles, link them, and re-arrange every story they touch; returns url -> story_id."""
        tables = self.tables
        urls = sorted(set(urls))
        # url -> (its story, its link partners) before (signing one article changes neither of another's)
        partners = tables.neighbours_of(urls)
        before = {url: (story, partners[url]) for url, story in zip(urls, tables.stories_of(urls))}
        signed = self._sign(urls, extracted or {})
        # A story is linked again whole when a member leaves it or stops matching a partner it was linked
        # to: those links may have been the only stored path between the others.
        dissolved = {story for url, (story, partners) in before.items() if story is not None and partners and (
            url not in signed or any(not self._still_linked(url, signed[url], p, signed) for p in partners))}
        loose = {u for urls in tables.story_urls(sorted(dissolved)).values() for u in urls}
        loose |= {u for u in signed if before[u][0] is None}
        kept = {u: before[u][0] for u in signed if u not in loose}   # re-signed, in a story that stays linked
        tables.delete_links(sorted(loose))
        self.counts.relinked += len(loose - set(signed))

        def node(url: str, story: int | None) -> str:
            return "u:" + url if url in loose or story is None else f"s:{story}"

        groups = _Groups()
        # The stored story of each article linking meets (linking changes none): looked up once a batch.
        story_of = {url: story for url, (story, _) in before.items()}
        todo = [(sig.t, url, sig) for url in loose | set(kept) if (sig := signed.get(url) or self._stored(url))]
        todo.sort(key=lambda x: x[:2])   # in time order, as the index expects (index.py)
        found = self.index.add_and_query([(url, sig.sig_id, sig.t, sig.minhash) for _, url, sig in todo])
        links = []   # (written at once: linking reads no link)
        for (_, url, sig), (late, rows) in zip(todo, found):
            self.counts.late += late
            links.append((url, self._link(url, sig, rows, node(url, kept.get(url)), groups, node, story_of)))
        tables.put_links([(url, partners) for url, partners in links if partners])
        # The stories now: each set of articles and untouched stories that linking joined.
        mine = {node(u, kept.get(u)) for u in loose | set(kept)}
        parts: dict[str, list[str]] = {groups.find(n): [] for n in mine}
        for n in mine | groups.seen:
            part = parts.get(groups.find(n))
            if part is not None:
                part.append(n)
        old_stories = {story for story, _ in before.values() if story is not None}
        old_stories |= {int(n[2:]) for n in groups.seen if n.startswith("s:")}
        changed_stories = set(kept.values())
        extensions = []   # a part that is one untouched story plus new articles only may just be extended
        for _, ns in sorted(parts.items()):
            stories_here = [int(n[2:]) for n in ns if n.startswith("s:")]
            newcomers = sorted(n[2:] for n in ns if n.startswith("u:"))
            simple = (len(stories_here) == 1 and stories_here[0] not in changed_stories and newcomers
                      and all(u in signed and before[u][0] is None for u in newcomers))
            extensions.append((stories_here[0], newcomers) if simple else None)
        return self._rearrange([sorted(ns) for _, ns in sorted(parts.items())], set(signed), old_stories, extensions,
                               {url: sig.shingles for url, sig in signed.items()})

    def _sign(self, urls: list[str], extracted: dict[str, Article]) -> dict[str, _Signed]:
        """Store the articles' signatures (the index gets each when it is linked). A url that is no longer an
        article leaves its story: its signature, links and member row go."""
        tables = self.tables
        articles = tables.articles(urls)
        made = []
        for url in urls:
            article = articles.get(url)
            if article is None:
                tables.delete_links([url])
                tables.delete_signature(url)
                tables.drop_member(url)
                continue
            page = extracted.get(url)
            keep = templates.kept(page.lines, article["text"]) if page is not None and page.line_words is not None else None
            kept = tables.take_kept_signature(url, article["text"]) if self._kept_signatures else None
            if kept is not None:   # set aside by a rebuild, made from this text with these parameters
                fp = Fingerprint(kept[1], kept[2], kept[0])
            elif keep is not None:   # the worker's words of the lines the store kept (all, or less the template lines)
                fp = self.signer.fingerprint_lines(page.line_words, np.array(keep, dtype=bool))
            else:
                fp = self.signer.fingerprint(article["text"])
            made.append((url, _utc(article["published"] or article["fetched_at"]), fp))
        ids = tables.put_signatures([(url, t, fp.text_hash, fp.minhash, fp.shingles) for url, t, fp in made])
        self.counts.filed += len(made)
        return {url: _Signed(t, len(fp.shingles), fp.minhash, fp.shingles, sig_id) for (url, t, fp), sig_id in zip(made, ids)}

    def _stored(self, url: str) -> _Signed | None:
        row = self.tables.signature(url)
        return _Signed(row.t, row.n_shingles, row.minhash) if row else None

    def _still_linked(self, url: str, sig: _Signed, partner: str, signed: dict[str, _Signed]) -> bool:
        """Does the article, as signed now, still make a verified pair with a partner it was linked to?"""
        other = signed.get(partner) or self._stored(partner)
        if other is None or not shift(sig.t, -self.window) <= other.t <= shift(sig.t, self.window):
            return False
        return decide(sig.minhash, sig.n, other.minhash, other.n,
                      lambda: self._exact_pair(url, sig, partner, other), self.options) is not None

    def _link(self, url: str, sig: _Signed, rows: list[tuple], me: str, groups: _Groups, node,
              story_of: dict[str, str | None]) -> list[tuple[str, float, float]]:
        """Link the article to its best verified partner in each story (or group being formed) it is not
        already connected to, among its candidates `rows` (WindowIndex.add_and_query), and join them; returns
        its links (partner, jaccard, containment)."""
        tables = self.tables
        if not rows:
            return []
        est = estimate_many(sig.minhash, sig.n, np.array([r[4] for r in rows]), np.array([r[3] for r in rows]))
        plausible = np.flatnonzero(linked(est, self.options, self.options.exact_margin))
        if not len(plausible):
            return []
        others = [rows[i][1] for i in plausible]
        missing = [u for u in others if u not in story_of]
        if missing:
            story_of.update(zip(missing, tables.stories_of(missing)))
        stories = [story_of[u] for u in others]
        by_group: dict[str, list[int]] = {}
        root_of: dict[str, str] = {}   # (the candidates of a big story are mostly one node: found once)
        for i, story in zip(plausible.tolist(), stories):
            n = node(rows[i][1], story)
            root = root_of.get(n)
            if root is None:
                root = root_of[n] = groups.find(n)
            by_group.setdefault(root, []).append(i)
        links = []
        for group in sorted(by_group):
            if group == groups.find(me):
                continue
            ids = by_group[group]   # the best first: by Jaccard, then URL (keys made at once: a big story has many)
            for _, _, i in sorted(zip((-est.jaccard[ids]).tolist(), [rows[i][1] for i in ids], ids)):
                _, other, ot, n, minhash = rows[i][:5]
                overlap = decide(sig.minhash, sig.n, minhash, n,
                                 lambda o=other, s=_Signed(ot, n, minhash): self._exact_pair(url, sig, o, s), self.options)
                if overlap is not None:
                    links.append((other, overlap.jaccard, overlap.containment))
                    groups.union(me, group)
                    break
        self.counts.links += len(links)
        if links:
            self.counts.stories_joined += 1
        return links

    def _exact_pair(self, url: str, sig: _Signed, other: str, other_sig: _Signed):
        self.counts.exact_checks += 1
        mine = sig.shingles if sig.shingles is not None else self.tables.shingles(url)
        theirs = other_sig.shingles if other_sig.shingles is not None else self.tables.shingles(other)
        return mine, theirs

    def _rearrange(self, parts: list[list[str]], changed: set[str], old_stories: set[int],
                   extensions: list | None = None, shingles: dict[str, np.ndarray] | None = None) -> dict[str, str]:
        """Write the story of each part, a component given as its articles ("u:<url>") and untouched stories
        ("s:<id>"): origin, relations, similarities; returns url -> story_id. Only member rows that change
        are written, and a member whose text and origin are the same as before keeps the similarity measured
        then; stories left empty go. A part that is an untouched story plus new articles (`extensions`) is
        extended in place when it can be (_extend)."""
        tables = self.tables
        assigned: dict[str, str] = {}
        kept_stories: set[int] = set()
        rest = []   # the parts not extended: their members are read, and their stories written, at once
        for i, part in enumerate(parts):
            extended = self._extend(*extensions[i], shingles) if extensions and extensions[i] else None
            if extended is not None:
                assigned.update(extended)
                kept_stories.add(extensions[i][0])
            else:
                rest.append(part)
        urls_of = tables.story_urls(sorted({int(n[2:]) for part in rest for n in part if n.startswith("s:")}))
        components = [sorted({u for n in part for u in (urls_of[int(n[2:])] if n.startswith("s:") else [n[2:]])})
                      for part in rest]
        found_by_url = {row[0].fetched_url: row for row in tables.members([u for c in components for u in c])}
        written = []
        for component in components:
            found = [found_by_url[u] for u in component if u in found_by_url]
            if not found:
                continue
            members = [m for m, _, _, _, _ in found]
            arr = arrange(members)
            old_stories.update(sid for _, sid, _, _, _ in found if sid is not None)
            origin_shingles = None
            similarity = {}
            origin_same = arr.origin not in changed
            for m, _, old_origin, old_similarity, _ in found:
                if m.fetched_url == arr.origin:
                    similarity[m.fetched_url] = 1.0
                elif origin_same and old_origin == arr.origin and old_similarity is not None and m.fetched_url not in changed:
                    similarity[m.fetched_url] = old_similarity
                else:
                    if origin_shingles is None:
                        origin_shingles = self._shingles(arr.origin, shingles)
                    similarity[m.fetched_url] = exact(origin_shingles, self._shingles(m.fetched_url, shingles)).jaccard
            # a member's row is written again when its story, relation or similarity changed, or when it was
            # re-signed (its time, kept in the row, may have changed)
            current = {m.fetched_url: (sid, rel, sim) for m, sid, _, sim, rel in found}
            by_url = {m.fetched_url: m for m in members}
            key = by_url[arr.origin].id
            unchanged = {url for url, rel in arr.relations.items()
                         if url not in changed and current.get(url) == (key, rel, round(similarity[url], 4))}
            written.append((arr, by_url, similarity, unchanged))
            for m in members:
                assigned[m.fetched_url] = arr.story_id
        kept_stories.update(tables.put_stories(written))
        for sid in old_stories - kept_stories:
            tables.drop_story_if_empty(sid)
        return assigned


    def _shingles(self, url: str, known: dict[str, np.ndarray] | None) -> np.ndarray:
        """An article's shingles: those of `known` (the articles just signed), else the stored ones."""
        found = known.get(url) if known else None
        return found if found is not None else self.tables.shingles(url)

    def _extend(self, story: int, newcomers: list[str], shingles: dict[str, np.ndarray] | None = None) -> dict[str, str] | None:
        """New articles that all rank after a story's first two members (in time order, then the wire's own
        copy, then URL: origin.py) leave its origin and the reason for it as they are, and the similarities
        measured to it. A member's relation depends only on the members of its own site ranked before it (a
        duplicate repeats the text of an earlier one on its site, a revision comes after one on its host), so
        only the members on the newcomers' sites are read and related again: a story of n copies costs a few
        lookups, not n member reads, whether its newcomers come last (copies arriving in time order) or late.
        None when that does not hold: the caller re-arranges the whole story."""
        tables = self.tables
        head = sorted(tables.story_head(story), key=rank)
        if len(head) < 2:   # a story of one: its reason changes
            return None
        first, second = head[:2]
        found = tables.members(newcomers)
        if len(found) != len(newcomers) or any(rank(m) <= rank(second) for m, *_ in found):
            return None
        origin_shingles = self._shingles(first.fetched_url, shingles)
        rows, changed = [], {}
        for site in sorted({m.site for m, *_ in found}):
            on_site = tables.story_members_on_site(story, site) + [(m, None) for m, *_ in found if m.site == site]
            texts: set[str] = set()
            hosts: set[str] = set()
            for m, old in sorted(on_site, key=lambda x: rank(x[0])):
                if m.fetched_url == first.fetched_url:
                    relation = "origin"
                elif m.text_hash in texts:
                    relation = "duplicate"
                elif m.host in hosts:
                    relation = "revision"
                else:
                    relation = "syndicated"
                texts.add(m.text_hash)
                hosts.add(m.host)
                if old is None:
                    rows.append((m, relation, exact(origin_shingles, self._shingles(m.fetched_url, shingles)).jaccard))
                elif relation != old:
                    changed[m.fetched_url] = relation
        tables.add_members(story, rows)
        tables.set_relations(changed)
        self.counts.extended += 1
        public = story_id(first.fetched_url)
        return {m.fetched_url: public for m, _, _ in rows}


def _utc(iso: str) -> str:
    dt = datetime.fromisoformat(iso)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()
