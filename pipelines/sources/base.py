"""What a source yields besides pages: records it could not read, and records it passes over."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from ..model import RawRef


@dataclass(frozen=True)
class BadRecord:
    """A record or file that could not be read: stored as an error with its reason."""
    fetched_url: str
    ref: RawRef
    reason: str
    detail: str


@dataclass(frozen=True)
class Skipped:
    """A record that is not a page to process (a request record, a redirect), or an input file or folder that
    cannot be read (a symbolic link loop, a folder without read permission): counted, not stored."""
    fetched_url: str
    reason: str
    detail: str = ""


def path_text(path) -> str:
    """A path as stored and shown: as it is, or, for a name that is not valid UTF-8 (bytes a file system
    allows), with those bytes written as `\\xff` (SQLite and the terminal take no lone surrogates)."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


def iso_utc(value: str | float | None) -> str:
    """ISO 8601 UTC from a WARC-Date / HTTP date string or a POSIX timestamp."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="seconds")
    if value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat(
                timespec="seconds")
        except ValueError:
            pass
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
