"""Sources of stored pages: WARC files, saved HTML files, and folders of both."""
from __future__ import annotations

import errno
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..model import Page, RawRef
from .base import BadRecord, Skipped, iso_utc, path_text
from .warc import read_warc

WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_MAX_FILE = 64 * 1024 * 1024


def expand(paths: list[str]) -> tuple[list[Path], list[Skipped]]:
    """The input files for these paths (directories searched recursively, symbolic links to directories
    not followed), resolved (a file's URI is that of its real path), in a stable order; and what was passed
    over, each with its reason: a path that does not exist, a file that is neither WARC nor HTML, a symbolic
    link that loops or leads nowhere, a folder that cannot be read. Only the caller decides whether what is
    left is enough."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found: list[tuple[Path, Path]] = []
                for item in _walk(path.resolve()):
                    (skipped if isinstance(item, Skipped) else found).append(item)
                files += [real for _, real in sorted(found)]
            elif path.is_file():
                if _kind(path):
                    files.append(path.resolve())
                else:
                    skipped.append(Skipped(path_text(raw), "unsupported_file", "not a WARC "
                                           f"({', '.join(WARC_SUFFIXES)}) or HTML ({', '.join(HTML_SUFFIXES)}) file"))
            elif path.is_symlink():
                skipped.append(Skipped(path_text(raw), "bad_symlink", _link_problem(path)))
            else:
                skipped.append(Skipped(path_text(raw), "no_such_file", "no such file or directory"))
        except (OSError, RuntimeError) as exc:   # (RuntimeError: a symbolic link loop, for resolve())
            skipped.append(Skipped(path_text(raw), "unreadable_path", str(exc)))
    return files, skipped


def _walk(folder: Path) -> Iterator[tuple[Path, Path] | Skipped]:
    """(path, real path) of the WARC and HTML files under a resolved folder, and a Skipped for each entry
    that cannot be read. The directory entries say what each name is, so only a symbolic link costs a system
    call (to resolve it), where checking and resolving each path took five."""
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        yield Skipped(path_text(folder), "unreadable_folder", exc.strerror or str(exc))
        return
    for entry in entries:
        path = folder / entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path)
            elif _kind(path):
                if not entry.is_symlink():
                    if entry.is_file(follow_symlinks=False):
                        yield path, path
                elif path.is_file():   # (False for a loop or a dangling link, which _link_problem names)
                    yield path, path.resolve()
                elif not path.exists():
                    yield Skipped(path_text(path), "bad_symlink", _link_problem(path))
        except (OSError, RuntimeError) as exc:
            yield Skipped(path_text(path), "unreadable_path", str(exc))


def _link_problem(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return f"symbolic link to a missing file ({os.readlink(path)})"
    return "symbolic link to something that is not a file"


@dataclass(frozen=True)
class HtmlFile:
    """A saved HTML page not read yet: an extraction worker reads it (read_html_file), so its bytes never
    pass through the main process."""
    path: Path
    unchanged_sha1: str | None = None   # the bytes stored for this page by the current extractor: if the
                                        # file still has them, its stored row stands and it is not extracted

    @property
    def fetched_url(self) -> str:
        return self.path.as_uri()


def read(files: list[Path]) -> Iterator[Page | HtmlFile | BadRecord | Skipped]:
    """The pages of these files (resolved, as `expand` gives them) in order; bare HTML files come as
    HtmlFile, for a worker to read."""
    for path in files:
        if _kind(path) == "warc":
            yield from read_warc(path)
        else:
            yield HtmlFile(path)


def read_html_file(path: Path) -> Page | BadRecord:
    """A saved page, read (in a worker) from its resolved path, as `expand` gives it: its URI is its address."""
    ref = RawRef(path_text(path))
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path) as f:
                body = f.read(_MAX_FILE + 1)
        else:
            body = path.read_bytes()
        mtime = path.stat().st_mtime
    except (OSError, EOFError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        return BadRecord(path.as_uri(), ref, "unreadable_file", getattr(exc, "strerror", None) or str(exc))
    if len(body) > _MAX_FILE:
        return BadRecord(path.as_uri(), ref, "unreadable_file", f"larger than {_MAX_FILE} bytes")
    return Page(fetched_url=path.as_uri(), body=body, content_type=None, fetched_at=iso_utc(mtime), ref=ref)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    return None


__all__ = ["BadRecord", "HtmlFile", "Skipped", "path_text", "expand", "read", "read_html_file", "WARC_SUFFIXES", "HTML_SUFFIXES"]
