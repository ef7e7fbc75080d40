"""The window index answers a whole batch at once (add_and_query) exactly as one add and one query after
another would: every entry finds the same stored partners within its window, through late articles,
evictions as the window moves on, and entries queried again without being added."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from stories_fixtures import article

from saving import save
from pipelines.model import RawRef
from pipelines.options import DedupOptions
from pipelines.store import open_store
from pipelines.stories.index import WindowIndex, shift

START = datetime(2025, 3, 1, tzinfo=timezone.utc)


def _entries(n: int, rng) -> list[tuple[str, str, np.ndarray]]:
    """(url, t, minhash): random signatures, most of them near copies of an earlier one (so they share
    bands), over 60 days with a two-week window: the window moves on, and some arrive late."""
    sigs = rng.integers(0, 2**32, (n, 128), dtype=np.uint32)
    for i in range(1, n):
        if rng.random() < 0.7:
            src = sigs[rng.integers(max(0, i - 40), i)]
            sigs[i] = np.where(rng.random(128) < 0.8, src, sigs[i])
    hours = np.sort(rng.uniform(0, 24 * 60, n))
    late = rng.random(n) < 0.1
    hours[late] -= rng.uniform(24 * 15, 24 * 40, late.sum())   # more than a window older than the newest
    return [(f"https://site{i % 7}.example/{i}", (START + timedelta(hours=float(h))).replace(microsecond=0).isoformat(), s)
            for i, (h, s) in enumerate(zip(hours, sigs))]


def test_a_batch_at_once_finds_what_one_query_after_each_add_finds(tmp_path, band_search):
    options = DedupOptions()
    window = timedelta(days=options.window_days)
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    tables = store.stories()
    one_by_one, batched = WindowIndex(options, tables, None), WindowIndex(options, tables, None)
    rng = np.random.default_rng(4)
    entries = _entries(600, rng)
    stored: dict[str, int] = {}
    compared = found = late = 0
    for start in range(0, len(entries), 40):
        batch = entries[start:start + 40]
        again = [entries[i] for i in rng.choice(start, min(start, 5), replace=False)] if start else []
        for url, t, minhash in batch:   # filing stores a batch's signatures before it links any
            save(store, article(url, ["A story."], t), RawRef("x"), "s", "v")   # (a signature is an article's)
            stored[url], = tables.put_signatures([(url, t, "h", minhash, np.arange(10, dtype=np.uint32))])
        todo = sorted([(t, url, minhash, stored[url]) for url, t, minhash in batch]
                      + [(t, url, minhash, None) for url, t, minhash in again], key=lambda x: x[:2])
        expected = []
        for t, url, minhash, sig_id in todo:
            if sig_id is not None:
                one_by_one.add(sig_id, t, minhash)
            lo, hi = shift(t, -window), shift(t, window)
            partners = [r[0] for r in one_by_one.query(minhash, t) if lo <= r[2] <= hi and r[1] != url]
            expected.append((not one_by_one.covers(t), partners))
        got = [(is_late, [r[0] for r in rows]) for is_late, rows in batched.add_and_query([(u, s, t, m) for t, u, m, s in todo])]
        assert got == expected
        compared += len(todo)
        found += sum(len(rows) > 0 for _, rows in expected)
        late += sum(is_late for is_late, _ in expected)
    assert compared > 600 and found > 200 and late > 20   # near copies were found, and late ones came
    assert len(batched) == len(one_by_one)
    store.close()
