"""The compiled fingerprint (pipelines/stories/_minhash.c) against the numpy path it replaces: the same
minhash, shingles and text hash for every text, by either of its two ways through the text (ASCII with
typographic separators, or anything after NFKC and case folding), and for any selection of an article's
lines; the same overlaps when a pair is verified; and its checks on what it is handed."""
from __future__ import annotations

import random

import numpy as np
import pytest
from stories_fixtures import story

from pipelines.options import DedupOptions
from pipelines.stories import fingerprint, verify
from pipelines.stories.fingerprint import SEPARATORS, Signer

native = fingerprint.native

# ASCII, the separators the fast path blanks, and characters that send a text down the general path:
# digits of other scripts, accents composed and combining, compatibility forms NFKC rewrites (ligature,
# full width, superscript, math bold outside the BMP), letters whose case folding is not lowercasing (ß, ς,
# İ), other scripts, a non-BMP letter with a case (Deseret), lone surrogates, and non-word symbols
_ASCII = "Ab Zz09_ .,;:'\"!?-()[]/\\@#$%&*+=<>|~`^{}\t\r\n"
_OTHERS = "٣४éÉüÜßẞ\u0301\u0308ｆＡ１ﬁ½²ı İσςΣжЖ中\u00ad\ufeff€™…\ud800\udfff\U0001d400\U00010400\U0001f600"


def _texts(rng: random.Random) -> list[str]:
    texts = ["", " ", "a", "a b", "a b c d", "one two three four five", "x" * 300 + " " + "y" * 17,
             "\n".join(story(1)), "\n".join(story(2, 30)), " ".join(["same"] * 50), "Ünïcödé “q” — d", "a_b 12 A\u2019s"]
    for trial in range(400):
        alphabet = _ASCII + SEPARATORS + (_OTHERS if trial % 2 else "")
        texts.append("".join(rng.choice(alphabet) if rng.random() < 0.3 else rng.choice("abcde ")
                             for _ in range(rng.randint(0, 200))))
    return texts


@pytest.fixture
def numpy_path(monkeypatch):
    def without_native(fn):
        monkeypatch.setattr(fingerprint, "native", None)
        try:
            return fn()
        finally:
            monkeypatch.setattr(fingerprint, "native", native)
    return without_native


def _same(a, b) -> bool:
    return (a.minhash.dtype == b.minhash.dtype == np.uint32 and np.array_equal(a.minhash, b.minhash)
            and a.shingles.dtype == b.shingles.dtype == np.uint32 and np.array_equal(a.shingles, b.shingles)
            and a.text_hash == b.text_hash)


def test_the_compiled_fingerprint_is_built():
    assert native is not None, ("pipelines/stories/_minhash.c was not compiled: install a C compiler and the Python "
                                "headers, then `pip install -e .` again")


@pytest.mark.parametrize("options", [DedupOptions(), DedupOptions(shingle_size=1, num_perm=16, lsh_bands=8, lsh_rows=2),
                                     DedupOptions(shingle_size=3, num_perm=256, seed=99, lsh_bands=64, lsh_rows=4)])
def test_compiled_and_numpy_fingerprints_are_identical(options, numpy_path):
    signer = Signer(options)
    texts = _texts(random.Random(options.shingle_size))
    compiled = [signer.fingerprint(t) for t in texts]
    reference = numpy_path(lambda: [signer.fingerprint(t) for t in texts])
    for text, a, b in zip(texts, compiled, reference):
        assert _same(a, b), repr(text)
    assert len({fp.text_hash for fp in compiled}) > len(texts) // 2   # (not all alike: the texts differ)


def test_compiled_and_numpy_fingerprints_of_selected_lines_are_identical(numpy_path):
    signer = Signer(DedupOptions())
    rng = random.Random(3)
    for text in _texts(rng)[:150]:
        lines = text.split("\n") + story(rng.randint(0, 99), 3)
        keep = np.array([rng.random() < 0.6 for _ in lines])
        lw = numpy_path(lambda: signer.line_words(lines))
        for selection in (None, keep):
            compiled = signer.fingerprint_lines(lw, selection)
            assert _same(compiled, numpy_path(lambda: signer.fingerprint_lines(lw, selection))), repr(lines)
            chosen = lines if selection is None else [line for line, k in zip(lines, selection) if k]
            assert _same(compiled, signer.fingerprint("\n".join(chosen)))


def test_compiled_and_numpy_line_words_are_identical(numpy_path):
    """The words of each line, their hashes and counts, as an extraction worker makes them: all lines in one
    pass in C (a line holding a line break of its own is read line by line)."""
    signer = Signer(DedupOptions())
    rng = random.Random(4)
    texts = _texts(rng)
    cases = [t.split("\n") for t in texts] + [[t, "", t.upper(), "  "] for t in texts[:50]]
    cases += [["a line\nholding a break", "next"], [""], ["", ""], ["\n"]]
    for lines in cases:
        compiled, reference = signer.line_words(lines, sign=True), numpy_path(lambda: signer.line_words(lines, sign=True))
        assert compiled.joined == reference.joined, repr(lines)
        assert compiled.counts.dtype == reference.counts.dtype and np.array_equal(compiled.counts, reference.counts)
        assert compiled.hashes.dtype == reference.hashes.dtype and np.array_equal(compiled.hashes, reference.hashes)
        assert _same(compiled.whole, reference.whole)


def test_compiled_and_numpy_comparisons_of_a_pair_are_identical(monkeypatch):
    signer = Signer(DedupOptions())
    rng = random.Random(8)
    texts = [t for t in _texts(rng) if t.strip()][:120]
    prints = [signer.fingerprint(t) for t in texts]
    pairs = [(a, b) for a in prints[:40] for b in prints[::3]]
    pairs += [(a, signer.fingerprint(t + " and a local paragraph of words")) for a, t in zip(prints, texts)]

    def overlaps():
        single = [verify.estimate(a.minhash, a.size, b.minhash, b.size) for a, b in pairs]
        many = verify.estimate_many(prints[0].minhash, prints[0].size, np.array([b.minhash for _, b in pairs]),
                                    np.array([b.size for _, b in pairs]))
        counted = [verify.exact(a.shingles, b.shingles) for a, b in pairs]
        return single, (many.jaccard.tolist(), many.containment.tolist(), many.shared.tolist()), counted

    compiled = overlaps()
    monkeypatch.setattr(verify, "native", None)
    assert overlaps() == compiled
    assert len({o.jaccard for o in compiled[2]}) > 20   # (pairs from unrelated to near copies)


def test_the_compiled_fingerprint_refuses_buffers_of_the_wrong_size():
    signer = Signer(DedupOptions())
    a, b = signer._pa, signer._pb
    mins, room = np.empty(128, dtype=np.uint32), np.empty(64, dtype=np.uint32)
    hashes = np.arange(10, dtype=np.uint32)
    native.sign_hashes(hashes, 5, a, b, mins, room)   # (the right sizes pass)
    for bad in ([hashes, 5, a, b, mins, room[:9]],                       # no room for the shingles
                [hashes, 0, a, b, mins, room],                           # no shingle size
                [hashes, 5, a, b[:64], mins, room],                      # permutations of two lengths
                [hashes, 5, a, b, mins[:100], room],                     # minhash shorter than the permutations
                [hashes.view(np.uint8)[:7], 5, a, b, mins, room]):       # not uint32
        with pytest.raises(ValueError):
            native.sign_hashes(*bad)
    with pytest.raises(TypeError):   # read-only output
        native.sign_hashes(hashes, 5, a, b, bytes(512), room)
    with pytest.raises(TypeError):
        native.words(b"some words", True, False)   # bytes, not str
    with pytest.raises(ValueError):
        native.set_separators("ab")
    with pytest.raises(ValueError):
        native.agree(mins, np.empty(130, dtype=np.uint32))     # rows of another length
    with pytest.raises(ValueError):
        native.shared(hashes, hashes.view(np.uint8)[:7])
