"""Sources of stored pages: WARC files, saved HTML files, and folders of both."""
from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..model import Page, RawRef
from .base import BadRecord, Skipped, iso_utc
from .warc import read_warc

WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_MAX_FILE = 64 * 1024 * 1024


class SourceError(Exception):
    """A path given on the command line cannot be read at all."""


def expand(paths: list[str]) -> list[Path]:
    """The input files for these paths (directories searched recursively, symbolic links to directories
    not followed), resolved (a file's URI is that of its real path), in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += [real for _, real in sorted(_walk(path.resolve()))]
        elif path.is_file():
            if not _kind(path):
                raise SourceError(f"{raw}: not a WARC ({', '.join(WARC_SUFFIXES)}) or HTML ({', '.join(HTML_SUFFIXES)}) file")
            files.append(path.resolve())
        else:
            raise SourceError(f"{raw}: no such file or directory")
    return files


def _walk(folder: Path) -> Iterator[tuple[Path, Path]]:
    """(path, real path) of the WARC and HTML files under a resolved folder. The directory entries say what
    each name is, so only a symbolic link costs a system call (to resolve it), where checking and resolving
    each path took five."""
    with os.scandir(folder) as entries:
        for entry in entries:
            path = folder / entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path)
            elif _kind(path) and entry.is_file():
                yield path, path.resolve() if entry.is_symlink() else path


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
    ref = RawRef(str(path))
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path) as f:
                body = f.read(_MAX_FILE + 1)
        else:
            body = path.read_bytes()
        mtime = path.stat().st_mtime
    except (OSError, EOFError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        return BadRecord(path.as_uri(), ref, "unreadable_file", str(exc))
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


__all__ = ["BadRecord", "HtmlFile", "Skipped", "SourceError", "expand", "read", "read_html_file", "WARC_SUFFIXES", "HTML_SUFFIXES"]
