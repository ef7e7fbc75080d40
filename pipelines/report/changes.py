"""What a copy changed against its story's origin, paragraph by paragraph: paragraphs trimmed, paragraphs
added, words changed inside paragraphs kept, and a diff a person can read.

Paragraphs and words are compared the way stories are matched (`fingerprint.words`: Unicode NFKC, case
folded, punctuation dropped), so a copy that only retyped quotes and dashes changed nothing. The diff shows
the copy's own words. It is plain data (kinds and strings); the page template escapes every string."""
from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from ..stories.fingerprint import words

# An edited paragraph keeps at least this share of its words; below it, the pair counts as one paragraph
# trimmed and one added (a local paragraph in place of a wire one is not an edit).
EDIT_RATIO = 0.5
KEEP_CONTEXT = 1  # unchanged paragraphs shown either side of a change; longer runs fold into a count
GIST = 160        # unchanged and trimmed paragraphs are shown cut to this many characters (the origin has them)
SHOW_TRIMMED = 3  # a longer run of trimmed paragraphs shows its first ones and a count of the rest


@dataclass
class Changes:
    trimmed: int = 0          # origin paragraphs the copy does not have
    added: int = 0            # copy paragraphs the origin does not have
    edited: int = 0           # paragraphs in both, with words changed
    words_changed: int = 0    # words removed or added inside edited paragraphs
    unchanged: int = 0
    # The readable diff: ("same", text) | ("skip", n unchanged paragraphs) | ("trimmed", text) |
    # ("more_trimmed", n more trimmed paragraphs) | ("added", text) | ("edited", [(op, text), ...]) with op
    # in "same", "del", "ins".
    blocks: list[tuple] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.trimmed or self.added or self.edited)


class Origin:
    """One story's origin, compared against each of its copies; paragraphs the copies share with it (most
    of them) are normalised once."""

    def __init__(self, text: str | None):
        self._keys: dict[str, tuple[str, ...]] = {}
        self.paragraphs = self._split(text)

    def compare(self, copy: str | None) -> Changes:
        a, b = self.paragraphs, self._split(copy)
        out = Changes()
        raw: list[tuple] = []
        matcher = SequenceMatcher(None, [k for k, _ in a], [k for k, _ in b], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                out.unchanged += i2 - i1
                raw += [("same", _gist(text)) for _, text in b[j1:j2]]
                continue
            old, new = a[i1:i2], b[j1:j2]
            while old and new and (edit := _edit(old[0][1], new[0][1])) is not None:
                ops, changed = edit
                out.edited += 1
                out.words_changed += changed
                raw.append(("edited", ops))
                old, new = old[1:], new[1:]
            out.trimmed += len(old)
            out.added += len(new)
            raw += [("trimmed", _gist(text)) for _, text in old[:SHOW_TRIMMED]]
            if len(old) > SHOW_TRIMMED:
                raw.append(("more_trimmed", len(old) - SHOW_TRIMMED))
            raw += [("added", text) for _, text in new]
        out.blocks = _fold(raw)
        return out

    def _split(self, text: str | None) -> list[tuple[tuple[str, ...], str]]:
        out = []
        for p in (text or "").split("\n"):
            key = self._keys.get(p)
            if key is None:
                key = self._keys[p] = tuple(words(p))
            if key:
                out.append((key, p.strip()))
        return out


def _gist(text: str) -> str:
    return text if len(text) <= GIST else text[:GIST].rsplit(" ", 1)[0] + " …"


def _edit(old: str, new: str) -> tuple[list[tuple[str, str]], int] | None:
    """A word diff of one paragraph against its edited version, or None when they are different paragraphs."""
    a, b = old.split(), new.split()
    ka, kb = [_word_key(w) for w in a], [_word_key(w) for w in b]
    matcher = SequenceMatcher(None, ka, kb, autojunk=False)
    kept = sum(size for _, _, size in matcher.get_matching_blocks())
    if kept < EDIT_RATIO * max(len(a), len(b)):
        return None
    ops: list[tuple[str, str]] = []
    changed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _push(ops, "same", " ".join(b[j1:j2]))
            continue
        changed += max(i2 - i1, j2 - j1)
        if i2 > i1:
            _push(ops, "del", " ".join(a[i1:i2]))
        if j2 > j1:
            _push(ops, "ins", " ".join(b[j1:j2]))
    return ops, changed


@lru_cache(maxsize=65536)
def _word_key(token: str) -> str:
    return " ".join(words(token))


def _push(ops: list, op: str, text: str) -> None:
    if ops and ops[-1][0] == op:
        ops[-1] = (op, ops[-1][1] + " " + text)
    else:
        ops.append((op, text))


def _fold(raw: list[tuple]) -> list[tuple]:
    """Unchanged paragraphs far from any change become ("skip", n)."""
    near = [False] * len(raw)
    for i, (kind, _) in enumerate(raw):
        if kind != "same":
            for j in range(max(0, i - KEEP_CONTEXT), min(len(raw), i + KEEP_CONTEXT + 1)):
                near[j] = True
    out: list[tuple] = []
    for block, shown in zip(raw, near):
        if shown:
            out.append(block)
        elif out and out[-1][0] == "skip":
            out[-1] = ("skip", out[-1][1] + 1)
        else:
            out.append(("skip", 1))
    return out
