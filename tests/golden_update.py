"""The golden pages (tests/golden/<page>/): what extraction gives for each, beside its expected.json.

    python tests/golden_update.py            # show the differences (exit 1 when there are some)
    python tests/golden_update.py --write    # write what extraction gives as the new expected.json
    python tests/golden_update.py PAGE ...   # only these pages

Each folder holds the raw page (page.html), where and when it was fetched (fetch.json: url, fetched_at), and
every exported field as expected (expected.json), or {"rejected": reason} for a page that is not an article.
An expected.json is written from the code's output only after reading the diff: it states what a careful
reader of the page would export, not what the code happened to give.
"""
from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipelines.article import process_page  # noqa: E402
from pipelines.model import ARTICLE_FIELDS, Article, Page, RawRef  # noqa: E402
from pipelines.options import ExtractOptions  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"


def folders(names: list[str] = ()) -> list[Path]:
    every = sorted(p for p in GOLDEN.iterdir() if (p / "page.html").is_file())
    return [p for p in every if not names or p.name in names]


def extracted(folder: Path) -> dict:
    """The page's exported fields as extraction gives them, or {"rejected": reason}."""
    fetch = json.loads((folder / "fetch.json").read_text())
    page = Page(fetch["url"], (folder / "page.html").read_bytes(), "text/html", fetch["fetched_at"],
                RawRef(str(folder / "page.html")))
    result = process_page(page, ExtractOptions())
    if not isinstance(result, Article):
        return {"rejected": result.reason}
    return {k: ("\n".join(result.lines) if k == "text" else getattr(result, k)) for k in ARTICLE_FIELDS}


def _dump(row: dict) -> list[str]:
    return (json.dumps(row, ensure_ascii=False, indent=1) + "\n").splitlines(keepends=True)


def main(argv: list[str]) -> int:
    write = "--write" in argv
    changed = 0
    for folder in folders([a for a in argv if a != "--write"]):
        got = extracted(folder)
        path = folder / "expected.json"
        old = json.loads(path.read_text()) if path.exists() else None
        if got == old:
            continue
        changed += 1
        sys.stdout.writelines(difflib.unified_diff(_dump(old) if old is not None else [], _dump(got),
                                                   f"{folder.name}/expected.json", f"{folder.name} (extracted)"))
        if write:
            path.write_text("".join(_dump(got)) + "\n")
    print(f"{changed} of {len(folders([a for a in argv if a != '--write']))} pages differ"
          + (" (written)" if write and changed else ""), file=sys.stderr)
    return 1 if changed and not write else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
