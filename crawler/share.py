"""Which outlets a crawl works on. On its own, all of them, at once. As a worker of a fleet, those it leases
from the fleet's Redis, a few at a time: an outlet is crawled by one worker (so are its hosts' politeness,
robots.txt, Retry-After holds and validators), and a worker that dies leaves its outlets to the others once
its leases expire. A fleet's crawl ends when every outlet has been crawled since it started."""
from __future__ import annotations

from .outlets import Outlet


class AllOutlets:
    def __init__(self, outlets: list[Outlet]):
        self._left = list(outlets)

    def take(self) -> list[Outlet]:
        taken, self._left = self._left, []
        return taken

    def finished(self, outlet: Outlet) -> None:
        pass

    def waiting(self) -> bool:
        """Are there outlets that may still come to this crawl (the others' are being crawled)?"""
        return False


class LeasedOutlets:
    """`run` is a FleetWorker (its lease, done_since_start and finished); `at_once`: how many outlets it crawls at a time."""

    def __init__(self, outlets: list[Outlet], run, at_once: int):
        self._left = list(outlets)
        self._run = run
        self._at_once = max(1, at_once)
        self._crawling: set[str] = set()

    def take(self) -> list[Outlet]:
        """Lease outlets, up to `at_once` crawled together: those no live worker holds and none has crawled
        since this one started. Those a live worker holds are left to it (and taken over if it dies)."""
        self._run.commit()   # (first: a Redis that lost what it held has the finished outlets said again)
        taken, passed = [], []
        while self._left and len(self._crawling) < self._at_once:
            outlet = self._left.pop(0)
            if self._run.done_since_start("outlet", outlet.name):
                continue
            if self._run.lease("outlet", outlet.name):
                self._crawling.add(outlet.name)
                taken.append(outlet)
            else:
                passed.append(outlet)   # (asked again after the others: its worker may die)
        self._left += passed
        return taken

    def finished(self, outlet: Outlet) -> None:
        self._crawling.discard(outlet.name)
        self._run.finished("outlet", outlet.name)

    def waiting(self) -> bool:
        return bool(self._left)
