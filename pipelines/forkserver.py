"""The extraction workers' fork server, started as early as a command can: it imports the extractor
(trafilatura, ~0.35 s) while the main process is still starting, and every worker forks from it ready.
Nothing but multiprocessing is imported here, so a command can start it before its own imports."""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

PRELOAD = ["pipelines.article", "pipelines.workers"]


def start_forkserver() -> None:
    """Start the fork server now; returns at once (the pool uses it later). Starting it again is a no-op."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()
