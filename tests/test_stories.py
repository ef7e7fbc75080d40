"""Filing articles into stories, on a real SQLite store: pairs, origins and relations, order independence,
persistence, the time window and the parameter check."""
from __future__ import annotations

import dataclasses
import random
import re
import unicodedata
from unittest.mock import ANY

import numpy as np
import pytest
from datasketch import MinHash

from saving import save
from pipelines.model import RawRef
from pipelines.options import DedupOptions
from pipelines.store import open_store
from pipelines.stories import DedupParamsMismatch, Stories
from pipelines.stories.fingerprint import SEPARATORS, Signer, words
from old_schemas import as_schema_3, story_rows
from stories_fixtures import article, story, straight_quoted, trimmed

AP = "https://apnews.example/article/"
T0 = "2025-03-01T10:00:00+00:00"


def at(hours: float) -> str:
    from datetime import datetime, timedelta
    return (datetime.fromisoformat(T0) + timedelta(hours=hours)).isoformat()


class Filer:
    """A store plus the story filer, the way `reprocess` drives them."""
    def __init__(self, store, options: DedupOptions = DedupOptions(), rebuild: bool = False):
        self.store = open_store(store if isinstance(store, str) else f"sqlite:///{store}")
        self.stories = Stories(self.store, options, rebuild=rebuild)

    def add(self, *articles):
        for a in articles:
            if save(self.store, a, RawRef("x"), "sha", "v") != "unchanged":
                self.stories.file(a.fetched_url)
        return self

    def rows(self) -> dict[str, tuple]:
        return {u: (s, r, sim) for u, s, r, sim in self.store.db.execute(
            "SELECT a.fetched_url, st.story_id, m.relation, m.similarity FROM story_members m "
            "LEFT JOIN articles a ON a.id = m.article LEFT JOIN stories st ON st.id = m.story")}

    def check_stories_are_link_components(self) -> None:
        """Every story is exactly a connected component of the stored links (walked here, independently of
        how filing found it), and the story row counts its members."""
        db = self.store.db
        graph: dict[int, set[int]] = {i: set() for (i,) in db.execute("SELECT article FROM signatures")}
        for a, b in db.execute("SELECT a, b FROM links"):
            graph[a].add(b)
            graph[b].add(a)
        components, seen = set(), set()
        for start in graph:
            if start in seen:
                continue
            todo, comp = [start], {start}
            while todo:
                for n in graph[todo.pop()] - comp:
                    comp.add(n)
                    todo.append(n)
            seen |= comp
            components.add(frozenset(comp))
        stories: dict[int, set[int]] = {}
        for member, key in db.execute("SELECT article, story FROM story_members"):
            stories.setdefault(key, set()).add(member)
        assert {frozenset(m) for m in stories.values()} == components
        assert dict(db.execute("SELECT id, size FROM stories")) == {key: len(m) for key, m in stories.items()}

    def close(self):
        self.stories.close()
        self.store.close()


@pytest.fixture
def filer(tmp_path, store_uris):
    f = Filer(store_uris("s"))
    yield f
    f.close()


def test_signature_is_datasketchs_minhash():
    for seed, num_perm in ((1, 128), (7, 16), (12345, 256)):  # the permutations, drawn without datasketch
        reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
        ours = Signer(DedupOptions(seed=seed, num_perm=num_perm, lsh_bands=8, lsh_rows=2)).permutations
        assert ours.dtype == reference.permutations.dtype and np.array_equal(ours, reference.permutations)
    signer = Signer(DedupOptions())
    assert np.array_equal(signer.fingerprint("").minhash, MinHash(num_perm=128, seed=1, scheme="affine32").hashvalues)
    fp = signer.fingerprint("\n".join(story(1)))
    reference = MinHash(num_perm=128, seed=1, hashfunc=int, scheme="affine32")
    reference.update_batch(fp.shingles.tolist())
    assert np.array_equal(reference.hashvalues, fp.minhash)
    assert signer.fingerprint("\n".join(story(1))).text_hash == fp.text_hash
    assert signer.fingerprint("\n".join(story(2))).text_hash != fp.text_hash


def test_a_selection_of_lines_is_fingerprinted_from_their_words_as_its_text_would_be():
    """The worker hashes each line's words once; the store may keep the lines less the host's template
    lines, and the fingerprint made from the kept lines' words is that of the text the store keeps."""
    signer = Signer(DedupOptions())
    rng = random.Random(5)
    odd = ["Cafe\u0301 “quoted” — dashed", "\u0301 starts with a combining accent", "", "ﬁne ligature ＦＵＬＬ width",
           "Ünïcödé WORDS, l’apostrophe", "x"]
    for trial in range(30):
        lines = rng.sample(story(60 + trial, 8) + odd, rng.randint(1, 14))
        lw = signer.line_words(lines)
        full, whole = signer.fingerprint_lines(lw), signer.fingerprint("\n".join(lines))
        assert np.array_equal(full.minhash, whole.minhash) and np.array_equal(full.shingles, whole.shingles)
        assert full.text_hash == whole.text_hash
        keep = np.array([rng.random() < 0.7 for _ in lines])
        kept = signer.fingerprint_lines(lw, keep)
        whole = signer.fingerprint("\n".join(line for line, k in zip(lines, keep) if k))
        assert np.array_equal(kept.minhash, whole.minhash) and np.array_equal(kept.shingles, whole.shingles)
        assert kept.text_hash == whole.text_hash
        # signed where the words were made (the extraction worker): the same, all lines or any selection
        signed = signer.line_words(lines, sign=True)
        for selection in (None, np.ones(len(lines), dtype=bool), keep):
            a, b = signer.fingerprint_lines(signed, selection), signer.fingerprint_lines(lw, selection)
            assert np.array_equal(a.minhash, b.minhash) and np.array_equal(a.shingles, b.shingles)
            assert a.text_hash == b.text_hash


def test_the_main_process_signs_only_articles_that_lost_lines(monkeypatch):
    """The worker's fingerprint of all the lines is used as it is when the store keeps every line, and the
    lines kept are signed afresh when the host's template lines were dropped."""
    signer = Signer(DedupOptions())
    lines = story(7, 6)
    signed = signer.line_words(lines, sign=True)
    monkeypatch.setattr(Signer, "_fingerprint", lambda self, wh, text: pytest.fail("signed again"))
    assert signer.fingerprint_lines(signed) is signed.whole
    assert signer.fingerprint_lines(signed, np.ones(len(lines), dtype=bool)) is signed.whole
    monkeypatch.undo()
    calls = []
    monkeypatch.setattr(Signer, "_fingerprint", lambda self, wh, text: calls.append(len(wh)))
    signer.fingerprint_lines(signed, np.array([True] * (len(lines) - 1) + [False]))
    assert calls == [len(signed.hashes) - signed.counts[-1]]


def _reference_words(text: str) -> list[str]:
    """The definition the fingerprint's words must meet: \\w+ runs of the NFKC, case-folded text."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def test_words_fast_path_gives_the_words_of_the_definition():
    """Text that is ASCII once its typographic punctuation is blanked takes a bytes fast path; it must give
    exactly the words NFKC, case folding and \\w+ give, whatever the mix of characters."""
    for sep in SEPARATORS:   # each blanked character is a separator under the definition too
        assert _reference_words(f"a{sep}b") == ["a", "b"], hex(ord(sep))
    signer = Signer(DedupOptions())
    rng = random.Random(11)
    ascii_part = "Ab Zz09_ .,;:'\"!?-()[]/\\@#$%&*+=<>|~`^{}\t\r"
    others = "éÉüÜßẞ\u0301\u0308ｆＡ１ﬁ½²ı İσςΣжЖ中\u00ad\ufeff€™…\ud800\udfff"
    for trial in range(3000):
        alphabet = ascii_part + SEPARATORS + (others if trial % 3 == 0 else "")
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert words(text) == _reference_words(text), repr(text)
        lines = text.split("\n") if trial % 2 else [text, text.upper(), ""]
        assert signer.line_words(lines).joined == [" ".join(_reference_words(line)) for line in lines], repr(lines)
    story_text = "\n".join(story(3))
    assert words(story_text) == _reference_words(story_text) and story_text.encode().isascii() is False


def test_each_kind_of_copy_lands_where_it_should(filer):
    wire = story(1)
    filer.add(
        article(AP + "1", wire, T0),
        article("https://trim.example/a", trimmed(wire, 0.55), at(1)),                     # trimmed from the bottom
        article("https://local.example/a", wire + ["Locally, " + story(9, 1)[0]], at(2)),  # plus a local paragraph
        article("https://retitled.example/a", wire, at(3), title="Totally new headline"),
        article("https://quotes.example/a", straight_quoted(wire), at(4)),
        article("https://trim.example/a?updated=1", trimmed(wire, 0.8), at(5)),            # same host, later, changed
        article("https://quotes.example/a-amp", straight_quoted(wire), at(6)),              # same text, second URL
        article("https://other.example/b", story(2), at(1)),                                # a different story
    )
    rows = filer.rows()
    origin_story = rows[AP + "1"][0]
    assert rows[AP + "1"][1:] == ("origin", 1.0)
    expected = {"https://trim.example/a": "syndicated", "https://local.example/a": "syndicated",
                "https://retitled.example/a": "syndicated", "https://quotes.example/a": "syndicated",
                "https://trim.example/a?updated=1": "revision", "https://quotes.example/a-amp": "duplicate"}
    for url, relation in expected.items():
        assert rows[url][0] == origin_story, url
        assert rows[url][1] == relation, url
    assert rows["https://quotes.example/a"][2] == 1.0          # quotes and dashes do not change a shingle
    assert rows["https://retitled.example/a"][2] == 1.0        # the headline is not part of the body
    assert 0.45 < rows["https://trim.example/a"][2] < 0.65     # Jaccard of a copy keeping 55 %
    assert rows["https://other.example/b"][0] != origin_story
    assert rows["https://other.example/b"][1] == "origin"
    (reason,) = filer.store.db.execute("SELECT reason FROM stories WHERE story_id=?", (origin_story,)).fetchone()
    assert reason == "earliest published"


def test_a_tie_goes_to_the_wires_own_copy(filer):
    wire = story(3)
    filer.add(article("https://aaa.example/x", wire, T0), article(AP + "3", wire[:-1], T0))
    rows = filer.rows()
    assert rows[AP + "3"][1] == "origin" and rows["https://aaa.example/x"][1] == "syndicated"
    (reason,) = filer.store.db.execute("SELECT reason FROM stories").fetchone()
    assert reason.startswith("wire's own copy")


def test_no_published_date_falls_back_to_the_fetch_time(filer):
    wire = story(4)
    filer.add(article("https://late.example/x", wire, None, fetched_at=at(5)),
              article("https://early.example/x", wire, None, fetched_at=at(1)))
    assert filer.rows()["https://early.example/x"][1] == "origin"
    (reason,) = filer.store.db.execute("SELECT reason FROM stories").fetchone()
    assert reason == "earliest fetched (no published date)"


def test_a_copy_linking_two_stories_merges_them_and_removing_it_splits_them(filer):
    a, b = story(5), story(6)
    filer.add(article(AP + "5", a, T0), article("https://x.example/6", b, at(1)))
    assert len({s for s, _, _ in filer.rows().values()}) == 2
    filer.add(article("https://roundup.example/both", a + b, at(2)))  # contains both: joins both
    assert len({s for s, _, _ in filer.rows().values()}) == 1
    assert filer.rows()[AP + "5"][1] == "origin"
    filer.check_stories_are_link_components()
    from pipelines.model import Rejected
    save(filer.store, Rejected("https://roundup.example/both", "not_article", "section_page", "", at(2)), RawRef("x"), "s2", "v")
    filer.stories.file("https://roundup.example/both")
    rows = filer.rows()
    assert "https://roundup.example/both" not in rows
    assert rows[AP + "5"][0] != rows["https://x.example/6"][0]
    assert {r for _, r, _ in rows.values()} == {"origin"}
    assert filer.store.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0] == 2
    filer.check_stories_are_link_components()


def _corpus():
    out = []
    for s in range(6):
        wire = story(100 + s)
        out.append(article(f"{AP}{s}", wire, at(s)))
        for c, host in enumerate(["a.example", "b.example", "c.example"]):
            out.append(article(f"https://{host}/{s}", trimmed(wire, 0.6 + 0.1 * c) + [story(200 + 10 * s + c, 1)[0]], at(s + c + 1)))
        out.append(article(f"https://a.example/{s}?updated=1", trimmed(wire, 0.9), at(s + 5)))
        out.append(article(f"https://solo.example/{s}", story(300 + s), at(s)))
    return out


def _partition(rows: dict) -> set:
    groups: dict = {}
    for url, (sid, rel, sim) in rows.items():
        groups.setdefault(sid, set()).add((url, rel, sim))
    return {frozenset(g) for g in groups.values()}


def test_stories_do_not_depend_on_arrival_order(tmp_path, store_uris):
    corpus = _corpus()
    results = []
    for seed in range(3):
        order = corpus[:]
        random.Random(seed).shuffle(order)
        f = Filer(store_uris(str(seed))).add(*order)
        f.check_stories_are_link_components()
        results.append((f.rows(), _partition(f.rows())))
        f.close()
    assert results[0][0] == results[1][0] == results[2][0]   # same story ids, relations and similarities
    assert len(results[0][1]) == 12                          # 6 syndicated stories + 6 distinct ones


@pytest.mark.parametrize("cache_limit", [None, 3])
def test_filing_in_batches_gives_the_stories_filing_one_by_one_gives(tmp_path, monkeypatch, cache_limit, store_uris):
    """file_unfiled links a whole batch first and re-arranges each touched story once: the stories, origins,
    relations and similarities are those of filing the same articles one at a time (where copies arriving
    after every member only extend their story), after a first filing, after re-filing every article of the
    same stories at once, and after a rebuild from nothing. With `cache_limit`, the signatures, stories and
    article ids filing keeps in memory are emptied whenever they outgrow a few entries, in the middle of a
    batch too, and filing one by one and in batches gives the same stories again: they are only caches."""
    import pipelines.store.story_tables as story_tables

    corpus = _corpus()
    one_by_one = Filer(store_uris("a")).add(*corpus)
    expected = one_by_one.rows()
    assert one_by_one.stories.counts.extended >= 6   # later copies only extended their story (filing._extend)
    one_by_one.check_stories_are_link_components()
    one_by_one.close()
    if cache_limit:
        for name in ("_CACHE_LIMIT", "_STORY_CACHE_LIMIT", "_ID_CACHE_LIMIT"):
            monkeypatch.setattr(story_tables, name, cache_limit)
        small = Filer(store_uris("small")).add(*corpus)
        assert small.rows() == expected
        small.check_stories_are_link_components()
        small.close()
    batched = Filer(store_uris("b"))
    for a in corpus:
        save(batched.store, a, RawRef("x"), "sha", "v")
    assert batched.stories.file_unfiled() == len(corpus)
    assert batched.rows() == expected
    batched.check_stories_are_link_components()
    with batched.store.transaction():   # every member of every story changed at once (a learned template)
        batched.stories.tables.mark_all_unfiled()
    assert batched.stories.file_unfiled() == len(corpus)
    assert batched.rows() == expected
    batched.close()
    rebuilt = Filer(store_uris("b"), rebuild=True)
    assert rebuilt.rows() == {} and rebuilt.stories.file_unfiled() == len(corpus)
    assert rebuilt.rows() == expected
    rebuilt.check_stories_are_link_components()
    rebuilt.close()


@pytest.fixture
def fingerprinted(monkeypatch) -> list[str]:
    """The texts the main process fingerprints (Signer.fingerprint, still doing its work)."""
    texts: list[str] = []
    real = Signer.fingerprint
    monkeypatch.setattr(Signer, "fingerprint", lambda self, text: texts.append(text) or real(self, text))
    return texts


def _signatures(f: Filer) -> dict:
    return {u: (h, bytes(m), bytes(s)) for u, h, m, s in f.store.db.execute("SELECT fetched_url, text_hash, minhash, shingles FROM signatures")}


def test_a_rebuild_after_changing_only_linking_parameters_refiles_from_the_stored_signatures(tmp_path, fingerprinted, store_uris):
    """Only the articles whose text changed since they were filed are fingerprinted again; the stories and
    signatures are those of a store built from nothing with the new parameters."""
    corpus = _corpus()
    f = Filer(store_uris("s")).add(*corpus)
    changed = [article(corpus[1].fetched_url, corpus[1].lines + story(999, 1), corpus[1].published),   # stored, not filed
               article(corpus[2].fetched_url, corpus[2].lines + story(998, 1), corpus[2].published)]   # changes later
    save(f.store, changed[0], RawRef("x"), "sha", "v")
    f.close()
    other = dataclasses.replace(DedupOptions(), jaccard=0.35, containment=0.85, lsh_bands=32, lsh_rows=4)
    fingerprinted.clear()   # from here on: what the rebuild fingerprints
    rebuilt = Filer(store_uris("s"), other, rebuild=True)
    assert rebuilt.rows() == {}
    save(rebuilt.store, changed[1], RawRef("x"), "sha", "v")   # re-extracted after the rebuild set its signature aside
    assert rebuilt.stories.file_unfiled() == len(corpus)
    assert sorted(fingerprinted) == sorted("\n".join(a.lines) for a in changed)
    assert rebuilt.store.db.execute("SELECT COUNT(*) FROM kept_signatures").fetchone()[0] == 0
    fresh = Filer(store_uris("fresh"), other).add(*changed, *corpus[3:], corpus[0])
    assert _signatures(rebuilt) == _signatures(fresh)
    assert rebuilt.rows() == fresh.rows()
    rebuilt.check_stories_are_link_components()
    rebuilt.close()
    fresh.close()


def test_a_rebuild_killed_half_way_takes_the_rest_of_its_signatures_back_at_the_next_start(tmp_path, fingerprinted, store_uris):
    corpus = _corpus()
    Filer(store_uris("s")).add(*corpus).close()
    other = dataclasses.replace(DedupOptions(), jaccard=0.35)
    fingerprinted.clear()   # from here on: what the rebuild and its resumption fingerprint
    killed = Filer(store_uris("s"), other, rebuild=True)
    killed.stories.file_all({a.fetched_url: None for a in corpus[:5]})   # then the process dies
    killed.store.close()
    resumed = Filer(store_uris("s"), other)
    assert resumed.stories.file_unfiled() == len(corpus) - 5
    assert fingerprinted == []
    assert resumed.store.db.execute("SELECT COUNT(*) FROM kept_signatures").fetchone()[0] == 0
    fresh = Filer(store_uris("fresh"), other).add(*corpus)
    assert _signatures(resumed) == _signatures(fresh) and resumed.rows() == fresh.rows()
    resumed.close()
    fresh.close()


def test_copies_tied_on_time_extend_their_story_when_they_come_last_by_url(tmp_path, store_uris):
    """Outlets that keep the wire's own timestamp tie on time; a tied copy ranks by URL after the others, so
    one arriving in that order only extends its story, and the rows are those of re-arranging it whole."""
    wire = story(31)
    copies = [article(AP + "31", wire, T0)] + [
        article(f"https://{name}.example/31", body, T0)
        for name, body in [("a", trimmed(wire, 0.8)), ("b", wire), ("c", straight_quoted(wire)), ("d", wire)]]
    in_url_order = Filer(store_uris("a")).add(*copies)
    assert in_url_order.stories.counts.extended == 3   # every copy after the story's first two
    reversed_order = Filer(store_uris("b")).add(*reversed(copies))
    assert reversed_order.stories.counts.extended == 0
    assert in_url_order.rows() == reversed_order.rows()
    relations = {u: r for u, (_, r, _) in in_url_order.rows().items()}
    assert relations[AP + "31"] == "origin" and relations["https://d.example/31"] == "syndicated"
    in_url_order.check_stories_are_link_components()
    in_url_order.close()
    reversed_order.close()


def test_a_late_copy_relates_again_only_the_members_of_its_site_and_matches_a_full_arrangement(tmp_path, store_uris):
    """A copy that arrives late, but after the story's first two members, is inserted without re-arranging
    the story: the later copy on its site becomes its duplicate, the rows are those of filing in time order."""
    wire = story(32)
    copies = [article(AP + "32", wire, T0), article("https://a.example/32", trimmed(wire, 0.8), at(1)),
              article("https://www.b.example/32?utm=x", wire, at(3)), article("https://c.example/32", wire, at(4)),
              article("https://b.example/32", wire, at(2))]          # late: before the www.b copy of 3 hours
    late = Filer(store_uris("a")).add(*copies)
    assert late.stories.counts.extended == 3                          # the last three, the late one too
    relations = {u: r for u, (_, r, _) in late.rows().items()}
    assert relations["https://b.example/32"] == "syndicated" and relations["https://www.b.example/32?utm=x"] == "duplicate"
    in_time = Filer(store_uris("b")).add(*sorted(copies, key=lambda a: a.published))
    assert late.rows() == in_time.rows()
    late.check_stories_are_link_components()
    late.close()
    in_time.close()


def test_a_second_run_links_new_copies_to_stories_of_the_first(tmp_path, store_uris):
    wire = story(7)
    f = Filer(store_uris("s")).add(article(AP + "7", wire, T0))
    f.close()
    f = Filer(store_uris("s"))
    assert len(f.stories.index) == 1 and f.stories.index.restored_from_disk   # the saved band index
    f.add(article("https://later.example/7", trimmed(wire, 0.7), at(30)))
    rows = f.rows()
    assert rows["https://later.example/7"][0] == rows[AP + "7"][0]
    assert rows["https://later.example/7"][1] == "syndicated"
    f.close()


def test_the_time_window(tmp_path, store_uris):
    options = DedupOptions(window_days=2)
    wire = story(8)
    f = Filer(store_uris("s"), options)
    f.add(article(AP + "8", wire, at(0)), article("https://far.example/8", wire, at(24 * 3)))  # 3 days apart
    rows = f.rows()
    assert rows[AP + "8"][0] != rows["https://far.example/8"][0]
    minhash = Signer(options).fingerprint("\n".join(wire)).minhash
    assert AP + "8" in [r[1] for r in f.stories.index.query(minhash, at(24 * 3))]
    f.add(article("https://newer.example/9", story(9), at(24 * 10)))    # the index moves on, as the run goes
    assert AP + "8" not in [r[1] for r in f.stories.index.query(minhash, at(24 * 10))]   # evicted from the index...
    assert f.store.db.execute("SELECT COUNT(*) FROM signatures").fetchone()[0] == 3   # ...not from the store
    f.add(article("https://late.example/8", wire, at(24 * 1)))          # arrives late: found through the store
    rows = f.rows()
    assert rows["https://late.example/8"][0] == rows[AP + "8"][0] == rows["https://far.example/8"][0]
    assert f.stories.counts.late == 1
    f.close()


def test_a_run_over_a_long_span_keeps_the_index_to_about_three_windows(tmp_path, store_uris):
    """Eviction happens as the newest article moves on, not only when the index is saved: over 30 days of
    daily articles with a 2-day window, the index never holds much more than 3 windows' worth."""
    f = Filer(store_uris("s"), DedupOptions(window_days=2))
    sizes = []
    for day in range(30):
        f.add(article(f"https://daily.example/{day}", story(500 + day), at(24 * day)))
        sizes.append(len(f.stories.index))
    assert max(sizes) <= 7 and sizes[-1] >= 4     # 2 windows always kept, a third at most before eviction
    assert f.store.db.execute("SELECT COUNT(*) FROM signatures").fetchone()[0] == 30
    f.close()


def test_opening_a_store_built_with_other_parameters_fails_until_rebuilt(tmp_path, store_uris):
    wire = story(10)
    Filer(store_uris("s")).add(article(AP + "10", wire, T0), article("https://x.example/10", trimmed(wire, 0.5), at(1))).close()
    other = dataclasses.replace(DedupOptions(), shingle_size=4, jaccard=0.4)
    with pytest.raises(DedupParamsMismatch) as err:
        Filer(store_uris("s"), other)
    assert "shingle_size 5 -> 4" in str(err.value) and "jaccard 0.3 -> 0.4" in str(err.value)
    assert "--rebuild-stories" in str(err.value)
    f = Filer(store_uris("s"), other, rebuild=True)
    assert f.store.db.execute("SELECT COUNT(*) FROM kept_signatures").fetchone()[0] == 0   # made with 5-word shingles
    assert f.stories.file_unfiled() == 2
    assert len({s for s, _, _ in f.rows().values()}) == 1
    f.close()
    Filer(store_uris("s"), other).close()  # the rebuilt store opens with its new parameters


def test_articles_stored_but_not_filed_by_a_killed_run_are_filed_on_the_next_start(tmp_path, store_uris):
    wire = story(11)
    f = Filer(store_uris("s")).add(article(AP + "11", wire, T0))
    save(f.store, article("https://copy.example/11", trimmed(wire, 0.7), at(1)), RawRef("x"), "sha", "v")  # killed here
    f.close()
    f = Filer(store_uris("s"))
    assert "https://copy.example/11" not in f.rows()
    assert f.stories.file_unfiled() == 1
    rows = f.rows()
    assert rows["https://copy.example/11"][0] == rows[AP + "11"][0]
    assert f.stories.file_unfiled() == 0
    f.close()


def test_order_independence_holds_across_many_windows_with_late_arrivals(tmp_path, store_uris):
    """Stories spread over 40 days with a 2-day window: filed in time order, reversed (everything arrives
    late) and shuffled, the stories come out the same."""
    options = DedupOptions(window_days=2)
    corpus = []
    for s in range(10):
        wire, day = story(400 + s), 4 * s
        corpus.append(article(f"{AP}{s}", wire, at(24 * day)))
        corpus.append(article(f"https://a.example/{s}", trimmed(wire, 0.7), at(24 * day + 5)))
        corpus.append(article(f"https://b.example/{s}", wire + story(450 + s, 1), at(24 * (day + 1.5))))
        corpus.append(article(f"https://c.example/{s}", wire, at(24 * (day + 3.6))))  # beyond every window: its own story
    results = []
    for name, order in [("time", sorted(corpus, key=lambda a: a.published)),
                        ("reversed", sorted(corpus, key=lambda a: a.published, reverse=True)),
                        ("shuffled", random.Random(3).sample(corpus, len(corpus)))]:
        f = Filer(store_uris(str(name)), options).add(*order)
        f.check_stories_are_link_components()
        results.append((f.rows(), f.stories.counts.late))
        f.close()
    assert results[0][0] == results[1][0] == results[2][0]
    assert results[0][1] == 0 and results[1][1] > 20            # the reversed run took the late path
    rows = results[0][0]
    assert rows[f"{AP}3"][0] == rows["https://a.example/3"][0] == rows["https://b.example/3"][0]
    assert rows["https://c.example/3"][0] != rows[f"{AP}3"][0]


@pytest.mark.parametrize("step,nth", [("_link", 3), ("_rearrange", 1)])
def test_a_failed_filing_leaves_nothing_behind(filer, monkeypatch, step, nth):
    """Filing that fails in a batch (half-way through linking its articles, or re-arranging their stories
    once all are linked) is rolled back whole, in the store and in what the process remembers: the
    signature ids it had taken go to the next articles, and nothing answers for the failed ones."""
    filer.add(article(AP + "x", story(41), at(0)))
    failed = [article(f"https://www.one.example/{k}", story(42 + k), at(1 + k)) for k in range(3)]
    for a in failed:
        save(filer.store, a, RawRef("x"), "sha", "v")
    real, calls = getattr(filer.stories, step), []

    def fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)
    monkeypatch.setattr(filer.stories, step, fail)
    with pytest.raises(RuntimeError):
        filer.stories.file_unfiled()
    monkeypatch.setattr(filer.stories, step, real)
    assert not filer.store.db.execute("SELECT 1 FROM signatures WHERE fetched_url LIKE '%one.example%'").fetchall()
    filer.store.db.execute("DELETE FROM articles WHERE fetched_url LIKE '%one.example%'")
    filer.store.db.execute("DELETE FROM unfiled")
    # a copy of the third failed article: it takes the first failed one's id, and must not meet the third
    filer.add(article("https://www.three.example/y", trimmed(story(44), 0.8), at(5)))
    rows = filer.rows()
    assert len({s for s, _, _ in rows.values()}) == 2 and all(r == "origin" for _, r, _ in rows.values())
    assert not filer.store.db.execute("SELECT * FROM links").fetchall()


def test_a_merge_rolled_back_leaves_no_story_remembered(filer, monkeypatch):
    """A roundup that merges two stories, in a batch that fails after the merged story is written: the
    rollback leaves each story as it was, in the store and in what the process remembers of who is in which
    story, so a later copy of the second story joins that story, not the one the failed merge made."""
    first, second = story(70), story(71)
    filer.add(article(AP + "70", first, at(0)), article("https://c.example/71", second, at(1)))
    save(filer.store, article("https://roundup.example/x", first[:6] + second[:6], at(2)), RawRef("x"), "sha", "v")

    def fail(story_id):
        raise RuntimeError("disk gone")
    monkeypatch.setattr(filer.stories.tables, "drop_story_if_empty", fail)   # after the merged story is written
    with pytest.raises(RuntimeError):
        filer.stories.file_unfiled()
    monkeypatch.undo()
    filer.store.db.execute("DELETE FROM articles WHERE fetched_url LIKE '%roundup%'")
    filer.store.db.execute("DELETE FROM unfiled")
    filer.add(article("https://d.example/71", trimmed(second, 0.8), at(3)))
    rows = filer.rows()
    assert rows["https://d.example/71"][0] == rows["https://c.example/71"][0] != rows[AP + "70"][0]
    filer.check_stories_are_link_components()


def test_a_copy_whose_text_changes_keeps_or_leaves_its_story(filer):
    """Re-filing a changed text: with the same partners it stays, with a new similarity; when its links go
    away it leaves, and the story that is left is still exactly a component of the links."""
    wire = story(60)
    filer.add(article(AP + "60", wire, at(0)), article("https://a.example/60", wire, at(1)),
              article("https://b.example/60", trimmed(wire, 0.8), at(2)))
    sid = filer.rows()[AP + "60"][0]
    assert filer.rows()["https://b.example/60"][2] < 1.0
    filer.add(article("https://b.example/60", wire, at(2)))                      # now the whole text
    rows = filer.rows()
    assert rows["https://b.example/60"] == (sid, "syndicated", 1.0)
    filer.check_stories_are_link_components()
    filer.add(article("https://a.example/60", story(61), at(1)))                 # now another story
    rows = filer.rows()
    assert rows["https://a.example/60"][0] != sid and rows["https://a.example/60"][1] == "origin"
    assert rows[AP + "60"][0] == rows["https://b.example/60"][0] == sid
    filer.check_stories_are_link_components()


def test_a_story_stores_one_link_per_copy_not_one_per_pair(filer):
    """Twenty copies of one wire story: every copy matches every other (190 pairs), but the links kept are a
    spanning forest of the stories (articles - stories), so a story carried by hundreds of outlets stays cheap."""
    wire = story(70)
    filer.add(article(AP + "70", wire, at(0)), *[
        article(f"https://outlet{k}.example/70", trimmed(wire, 0.7 + 0.015 * k), at(1 + k)) for k in range(19)])
    filer.add(article("https://other.example/71", story(71), at(2)))
    db = filer.store.db
    assert len({s for s, _, _ in filer.rows().values()}) == 2
    (links,), (articles,), (stories,) = (db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()
                                         for t in ("links", "signatures", "stories"))
    assert links == articles - stories == 19
    filer.check_stories_are_link_components()


def test_when_the_copy_others_were_linked_through_leaves_they_stay_together_if_they_still_match(filer):
    """The first and last 70 % of a wire story match each other (Jaccard ~0.4) but each matches the whole
    story better, so both are linked to it alone. When the whole story turns into another text, the two
    must be linked again to each other, not left as two stories."""
    wire = story(80)
    head, tail = wire[:7], wire[3:]
    filer.add(article(AP + "80", wire, at(0)), article("https://head.example/80", head, at(1)),
              article("https://tail.example/80", tail, at(2)))
    db = filer.store.db
    assert story_rows(db)["links"] == [(AP + "80", "https://head.example/80", ANY, ANY),
                                       (AP + "80", "https://tail.example/80", ANY, ANY)]
    filer.add(article(AP + "80", story(81), at(0)))   # the hub becomes another story
    rows = filer.rows()
    assert rows["https://head.example/80"][0] == rows["https://tail.example/80"][0] != rows[AP + "80"][0]
    assert rows["https://head.example/80"][1] == "origin" and rows["https://tail.example/80"][1] == "syndicated"
    assert story_rows(db)["links"] == [("https://head.example/80", "https://tail.example/80", ANY, ANY)]
    assert filer.stories.counts.relinked == 2
    filer.check_stories_are_link_components()


def test_a_schema_3_store_is_keyed_by_article_id_and_files_on_as_if_it_had_always_been(tmp_path, capsys):
    """Schema 3 keyed the story tables by URL. Opening such a store gives each article an id, in order of time,
    and keeps every row: the same stories, links and signatures (their ids too, so the saved band index is
    reused), and what was waiting to be filed, including an article gone since it was filed. Filing then goes
    on exactly as in the store that was never migrated."""
    import shutil
    import sqlite3

    from pipelines.model import Rejected

    a, b = story(610), story(611)
    reference = Filer(tmp_path / "new.sqlite").add(
        article("https://www.one.example/610", trimmed(a, 0.8), at(2)), article(AP + "610", a, at(0)),
        article("https://m.one.example/610-b", trimmed(a, 0.8), at(3)), article("https://two.example/610", a[:8], at(1)),
        article(AP + "611", b, at(4)), article("https://three.example/611", trimmed(b, 0.7), at(5)),
        article("https://five.example/611", trimmed(b, 0.6), at(6)))
    save(reference.store, Rejected("https://five.example/611", "not_article", "section_page", "", at(6)), RawRef("x"), "s2", "v")
    reference.stories.file("https://five.example/611")   # the newest signature goes: ids are not given again
    # not filed yet when the store is migrated: one page became a section page, one copy was updated
    save(reference.store, Rejected("https://two.example/610", "not_article", "section_page", "", at(6)), RawRef("x"), "s2", "v")
    save(reference.store, article("https://three.example/611", trimmed(b, 0.7) + ["An update."], at(5)), RawRef("x"), "s2", "v")
    reference.close()
    reference.store.close()
    as_schema_3(tmp_path / "new.sqlite", tmp_path / "old.sqlite")
    shutil.copytree(tmp_path / "new.sqlite.bands", tmp_path / "old.sqlite.bands")

    capsys.readouterr()
    migrated, reference = Filer(tmp_path / "old.sqlite"), Filer(tmp_path / "new.sqlite")
    assert capsys.readouterr().err == "wirecrawl: migrating the store to schema 4: the story tables refer to articles by id (once; 5 articles)\n"
    db = migrated.store.db
    assert db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    assert story_rows(db) == story_rows(reference.store.db)
    assert len(story_rows(db)["unfiled"]) == 2 and len(story_rows(db)["members"]) == 6
    assert [u for (u,) in db.execute("SELECT fetched_url FROM articles ORDER BY id")] == \
        [u for (u,) in db.execute("SELECT fetched_url FROM articles ORDER BY published, fetched_url")]
    (gone,), = db.execute("SELECT article FROM unfiled WHERE fetched_url = 'https://two.example/610'")
    assert gone > db.execute("SELECT MAX(id) FROM articles").fetchone()[0]   # an id of its own...
    assert migrated.stories.index.restored_from_disk
    for f in (migrated, reference):
        assert f.stories.file_unfiled() == 2
        f.add(article("https://four.example/611", trimmed(b, 0.9), at(7)), article("https://four.example/610", a, at(1)))
    assert db.execute("SELECT MIN(id) FROM articles WHERE fetched_url LIKE 'https://four.%'").fetchone()[0] > gone  # ...never given again
    assert story_rows(db) == story_rows(reference.store.db)
    assert migrated.rows()["https://four.example/610"][1] == "syndicated"
    migrated.check_stories_are_link_components()
    for f in (migrated, reference):
        f.close()
        f.store.close()
    assert sqlite3.connect(tmp_path / "old.sqlite").execute("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'old_%'").fetchone() == (0,)


def test_exact_overlap_counts_shared_shingles_as_sets_do():
    from pipelines.stories.verify import exact
    rng = np.random.default_rng(7)
    for _ in range(500):
        pool = rng.integers(0, 2**32, 60, dtype=np.uint32)
        a, b = (np.unique(rng.choice(pool, rng.integers(0, 40))) for _ in range(2))
        shared = len(set(a.tolist()) & set(b.tolist()))
        union = len(set(a.tolist()) | set(b.tolist()))
        o = exact(a, b)
        assert (o.shared, o.jaccard) == (shared, shared / union if union else 0.0)
        assert o.containment == shared / max(1, min(len(a), len(b)))


def test_stories_are_the_components_of_all_verified_pairs_through_arrivals_changes_and_departures(filer):
    """Against a brute-force reference: every pair of stored signatures that shares an LSH band is verified
    with the linking rule, and the stories must be exactly the components of the pairs that pass, after
    random arrivals, text changes and departures (roundups join stories, slices of a story chain them)."""
    from pipelines.model import Rejected
    from pipelines.stories.index import band_candidates
    from pipelines.stories.verify import decide
    rng = random.Random(5)
    wires = [story(90 + w) for w in range(4)]

    def text():
        w = rng.randrange(4)
        lo = rng.randrange(5)
        lines = wires[w][lo:lo + rng.randint(4, 10)]
        if w == 0 and rng.random() < 0.3:   # a roundup of two stories: joins stories 0 and 1 (2 and 3 stay apart)
            lines = lines + wires[1][:rng.randint(3, 8)]
        return lines
    urls = [f"https://o{k % 7}.example/{k}" for k in range(40)]
    for url in rng.sample(urls, len(urls)):
        filer.add(article(url, text(), at(rng.uniform(0, 30))))
    for url in rng.sample(urls, 8):                       # changed texts
        filer.add(article(url, text(), at(rng.uniform(0, 30))))
    for url in rng.sample(urls, 4):                       # no longer articles
        save(filer.store, Rejected(url, "not_article", "section_page", "", at(1)), RawRef("x"), "s2", "v")
        filer.stories.file(url)

    opts, tables = filer.stories.options, filer.stories.tables
    sigs = {r[1]: r for r in tables.signatures_between("0", "9")}
    parent = {u: u for u in sigs}

    def find(u):
        while parent[u] != u:
            u = parent[u]
        return u
    for a in sigs:
        for b in sigs:
            if a < b and len(band_candidates(sigs[a][4], sigs[b][4][None, :], opts)):
                if decide(sigs[a][4], sigs[a][3], sigs[b][4], sigs[b][3],
                          lambda a=a, b=b: (tables.shingles(a), tables.shingles(b)), opts) is not None:
                    parent[find(a)] = find(b)
    expected: dict = {}
    for u in sigs:
        expected.setdefault(find(u), set()).add(u)
    got: dict = {}
    for u, (sid, _, _) in filer.rows().items():
        got.setdefault(sid, set()).add(u)
    assert {frozenset(s) for s in got.values()} == {frozenset(s) for s in expected.values()}
    assert 3 <= len(got) < len(sigs) - 5     # some stories, and some of them large
    assert filer.stories.counts.relinked > 0  # a departure made a story be linked again
    filer.check_stories_are_link_components()


def test_a_schema_1_store_is_migrated_in_place_and_filing_goes_on(tmp_path, monkeypatch):
    """A store of schema 1 (tests/schema_v1.sql: story members without their time and site, a host_lines row
    per template candidate) opens migrated to what this wirecrawl stores (schema 4), and copies go on joining its
    stories. The schema-1 store is made by copying a store that filing wrote into the old tables (through
    schema 3, which keyed the story tables by URL as schema 1 did)."""
    import json
    import sqlite3
    from pathlib import Path

    from pipelines.steps.templates import lines_of

    wire = story(600)
    new = Filer(tmp_path / "new.sqlite").add(
        article(AP + "600", wire, at(0)), article("https://www.one.example/600", trimmed(wire, 0.8), at(1)),
        article("https://m.one.example/600-b", trimmed(wire, 0.8), at(2)), article("https://two.example/600", wire, at(3)))
    new.close()
    as_schema_3(tmp_path / "new.sqlite", tmp_path / "v3.sqlite")
    old = sqlite3.connect(tmp_path / "old.sqlite")
    old.executescript((Path(__file__).parent / "schema_v1.sql").read_text())
    old.execute("ATTACH ? AS new", (str(tmp_path / "v3.sqlite"),))
    for (table,) in old.execute("SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT IN "
                                "('host_lines', 'sqlite_sequence')").fetchall():
        columns = [r[1] for r in old.execute(f"PRAGMA main.table_info({table})")]
        selected = ", ".join("'[]'" if c == "lines" else c for c in columns)   # (filled in below)
        old.execute(f"INSERT INTO main.{table} ({', '.join(columns)}) SELECT {selected} FROM new.{table}")
    for url, text, left_out in old.execute("SELECT fetched_url, text, left_out FROM new.articles").fetchall():
        old.execute("UPDATE main.articles SET lines=? WHERE fetched_url=?", (json.dumps(lines_of(text, left_out)), url))
    for url, host, lead, keys in old.execute("SELECT * FROM new.article_lines").fetchall():
        old.executemany("INSERT INTO host_lines VALUES (?, ?, ?, ?)", [(host, k, url, lead) for k in keys.split()])
    old.execute("UPDATE store_meta SET value='1' WHERE key='schema_version'")
    old.commit()
    assert old.execute("SELECT COUNT(*) FROM host_lines").fetchone()[0] > 20
    old.close()

    # a migration that stops half-way (here: the schema-4 tables cannot be made, after the steps to schema 3
    # are done) leaves a store that the next open migrates the rest of the way
    import pipelines.store.sqlite as sqlite_store
    from pipelines.store import StoreError

    class Broken:
        def joinpath(self, name):
            return self

        def read_text(self):
            return "CREATE TABLE broken (;"
    with monkeypatch.context() as patched:
        patched.setattr(sqlite_store.resources, "files", lambda package: Broken())
        with pytest.raises(StoreError):
            open_store(f"sqlite:///{tmp_path / 'old.sqlite'}")
    half = sqlite3.connect(tmp_path / "old.sqlite")
    assert half.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("3",)
    assert "site" in {r[1] for r in half.execute("PRAGMA table_info(story_members)")}   # the first steps are done...
    assert not half.execute("SELECT 1 FROM sqlite_master WHERE name = 'host_lines'").fetchall()
    assert "id" not in {r[1] for r in half.execute("PRAGMA table_info(articles)")}       # ...and the last one not at all
    assert not half.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'old_%'").fetchall()
    half.close()

    f = Filer(tmp_path / "old.sqlite")
    db = f.store.db
    assert db.execute("SELECT value FROM store_meta WHERE key='schema_version'").fetchone() == ("7",)
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name IN ('host_lines', 'story_members_story')").fetchall()
    reference = sqlite3.connect(tmp_path / "new.sqlite")
    assert story_rows(db) == story_rows(reference)
    lines = "SELECT fetched_url, host, lead, line_keys FROM article_lines ORDER BY fetched_url"
    assert [r[:3] + (sorted(r[3].split()),) for r in db.execute(lines)] == \
        [r[:3] + (sorted(r[3].split()),) for r in reference.execute(lines)]
    sites = {url: site for url, _, _, _, _, site in story_rows(db)["members"]}
    assert sites["https://www.one.example/600"] == sites["https://m.one.example/600-b"] == "one.example"
    f.add(article("https://three.example/600", trimmed(wire, 0.9), at(4)),
          article("https://one.example/600-c", trimmed(wire, 0.8), at(5)))   # found on its site by the migrated rows
    rows = f.rows()
    assert rows["https://three.example/600"][:2] == (rows[AP + "600"][0], "syndicated")
    assert [rows[u][1] for u in ("https://www.one.example/600", "https://m.one.example/600-b", "https://one.example/600-c")] \
        == ["syndicated", "duplicate", "duplicate"]
    assert f.stories.counts.extended >= 1
    f.check_stories_are_link_components()
    f.close()
