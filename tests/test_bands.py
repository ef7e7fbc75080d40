"""The compact band index gives exactly MinHashLSH's candidates, through flushes, merges, saves and loads."""
from __future__ import annotations

import numpy as np
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


def test_candidates_are_minhashlshs_through_flushes_and_merges(monkeypatch, tmp_path):
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


def test_adding_many_at_once_is_the_same_as_one_by_one():
    sigs = _signatures(300, seed=2)
    one, many = BandIndex(64, 2), BandIndex(64, 2)
    for i, s in enumerate(sigs):
        one.add(i, s)
    many.add_many(np.arange(150), sigs[:150])
    many.add_many(np.arange(150, 300), sigs[150:])
    assert [one.query(p) for p in sigs[::5]] == [many.query(p) for p in sigs[::5]]


def test_the_recheck_of_stored_signatures_keeps_exactly_minhashlshs_candidates():
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
