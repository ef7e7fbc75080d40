"""The compact band index gives exactly MinHashLSH's candidates, through flushes, merges, saves and loads."""
from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHashLSH

from pipelines.stories import bands
from pipelines.stories.bands import BandIndex


class Signature:
    """What MinHashLSH needs of a MinHash."""
    scheme = "affine32"

    def __init__(self, hashvalues):
        self.hashvalues = hashvalues

    def __len__(self):
        return len(self.hashvalues)


def _signatures(n: int, seed: int = 0) -> np.ndarray:
    """Random signatures, every third one a near copy of an earlier one (so bands collide)."""
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, (n, 128), dtype=np.uint32)
    for i in range(3, n, 3):
        src = sigs[rng.integers(0, i)]
        keep = rng.random(128) < 0.6
        sigs[i] = np.where(keep, src, sigs[i])
    return sigs


def test_candidates_are_minhashlshs_through_flushes_and_merges(monkeypatch, tmp_path, band_search):
    monkeypatch.setattr(bands, "_FLUSH_ENTRIES", 64 * 25)   # a run every 25 signatures: many runs, many merges
    sigs = _signatures(600)
    lsh = MinHashLSH(num_perm=128, params=(64, 2))
    index = BandIndex(64, 2)
    for i, s in enumerate(sigs):
        lsh.insert(i, Signature(s))
        index.add(i, s)
    assert len(index.runs) <= bands._MAX_RUNS and len(index) == 600
    probes = np.vstack([sigs[::7], _signatures(50, seed=1)])
    expected = [set(lsh.query(Signature(p))) for p in probes]
    assert [index.query(p) for p in probes] == expected
    assert sum(len(e) > 1 for e in expected) > 20            # the probes do find near copies

    index.save(tmp_path / "b", {"max_id": 599})
    loaded, manifest = BandIndex.load(tmp_path / "b", 64, 2)
    assert manifest["max_id"] == 599
    assert [loaded.query(p) for p in probes] == expected
    loaded.add(1000, sigs[0])                                # new entries on top of the mapped runs
    assert 1000 in loaded.query(sigs[0])
    loaded.compact(lambda ids: ids % 2 == 0)                 # eviction keeps what it is told to
    assert all(i % 2 == 0 for p in probes for i in loaded.query(p))


def test_a_missing_or_broken_save_is_ignored(tmp_path):
    assert BandIndex.load(tmp_path / "none", 64, 2) is None
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text('{"runs": [0]}')
    assert BandIndex.load(tmp_path / "b", 64, 2) is None


def test_adding_many_at_once_is_the_same_as_one_by_one(band_search):
    sigs = _signatures(300, seed=2)
    one, many = BandIndex(64, 2), BandIndex(64, 2)
    for i, s in enumerate(sigs):
        one.add(i, s)
    many.add_many(np.arange(150), sigs[:150])
    many.add_many(np.arange(150, 300), sigs[150:])
    assert [one.query(p) for p in sigs[::5]] == [many.query(p) for p in sigs[::5]]


def test_the_recheck_of_stored_signatures_keeps_exactly_minhashlshs_candidates(band_search):
    """band_candidates (which drops stale index entries) agrees with MinHashLSH for 1, 2 and 3 rows a band,
    and with fewer bands x rows than permutations."""
    from pipelines.options import DedupOptions
    from pipelines.stories.index import band_candidates

    sigs = _signatures(300, seed=3)
    for b, r in ((100, 1), (64, 2), (40, 3), (20, 2)):
        lsh = MinHashLSH(num_perm=128, params=(b, r))
        for i, s in enumerate(sigs):
            lsh.insert(i, Signature(s))
        options = DedupOptions(lsh_bands=b, lsh_rows=r)
        expected = [sorted(lsh.query(Signature(p))) for p in sigs[::9]]
        assert [sorted(band_candidates(p, sigs, options).tolist()) for p in sigs[::9]] == expected, (b, r)
        assert sum(len(e) > 1 for e in expected) > 5     # near copies are found, not only the probe itself


def test_a_run_with_a_wide_directory_answers_as_with_a_narrow_one(band_search):
    """A run of 2**31 entries or more has an int64 bucket directory; the search reads either width."""
    sigs = _signatures(400, seed=5)
    index = BandIndex(64, 2)
    index.add_many(np.arange(400), sigs)
    narrow = [index.query(p) for p in sigs[::11]]
    run = index.runs[0]
    assert run.directory.dtype == np.int32
    run.directory = run.directory.astype(np.int64)
    assert [index.query(p) for p in sigs[::11]] == narrow
    assert sum(len(c) > 1 for c in narrow) > 5


def test_the_compiled_searches_give_each_pair_once_and_refuse_what_they_cannot_read():
    native = bands.native
    sigs = _signatures(50)
    index = BandIndex(64, 2)
    index.add_many(np.arange(50), sigs)
    run = index.runs[0]
    good = (run.keys, run.ids, run.directory, int(run.shift))
    # each signature matches itself in all 64 bands and its near copies in many: one code a pair
    every = bands.band_keys(sigs, 64, 2)
    for codes, least in ((native.lookup(every, 64, [good, good]), 60), (native.earlier(every, 64, bytes([1]) * 50), 20)):
        codes = np.frombuffer(codes, np.int64)
        assert len(codes) > least and len(np.unique(codes)) == len(codes)
    keys = every[:3]
    for runs in ([(run.keys, run.ids[:-1], run.directory, int(run.shift))],       # ids and keys of two lengths
                 [(run.keys, run.ids, run.directory[:-1], int(run.shift))],       # directory of the wrong size
                 [(run.keys, run.ids, run.directory, int(run.shift) - 1)],        # shift not the directory's
                 [(run.keys, run.ids, run.directory, 0)]):
        with pytest.raises(ValueError):
            native.lookup(keys, 64, runs)
    broken = run.directory.copy()
    broken[1:] = len(run.keys) + 5                                               # offsets past the run's end
    with pytest.raises(ValueError):
        native.lookup(keys, 64, [(run.keys, run.ids, broken, int(run.shift))])
    with pytest.raises(ValueError):
        native.lookup(keys.reshape(-1)[:-1], 64, [good])                         # not k x bands keys
    with pytest.raises(TypeError):
        native.lookup(keys, 64, [good[:3]])
    with pytest.raises(ValueError):
        native.earlier(keys, 64, bytes(2))                                       # flags for 2 of 3 signatures
    with pytest.raises(ValueError):
        native.share_band(sigs[0], sigs[:4], 65, 2)                              # more bands x rows than values
    with pytest.raises(ValueError):
        native.share_band(sigs[0], np.ascontiguousarray(sigs[:4, :100]), 64, 2)  # rows of another length
