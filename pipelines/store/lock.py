"""One writing run per store at a time: a crawl and a reprocess (or two of either) would interleave their
saves of the band index beside the store. The lock is an flock on `<store>.lock`, which holds the holder's
pid and command; the kernel releases it when the holder exits, however it exits."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .base import StoreBusy
from .sqlite import failure


class WriterLock:
    def __init__(self, path: Path, command: str):
        self.path = path
        try:
            self._file = open(path, "a+")
        except OSError as exc:   # a read-only folder, a full disk
            raise failure(path.with_name(path.name.removesuffix(".lock")), exc, "lock") from exc
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            pid, _, holder = (self._file.read().strip() or "? another run").partition(" ")
            self._file.close()
            raise StoreBusy(f"another {holder} is running on this store (pid {pid}, lock {path}); "
                            f"this {command} exits without changing anything") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()} {command}")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()   # closing the file releases the lock (so does the process dying)
            self._file = None
