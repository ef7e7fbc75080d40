"""The fleet's Redis: a stream of extraction results that one filer reads with a consumer group, claims on
input files (so each is read by one worker at a time, and again by another when its worker dies), and the
workers' heartbeats. Everything under one key prefix, in the database the URL names."""
from __future__ import annotations

import os
import socket
import time
import uuid

import redis

_GROUP = "filers"


class FleetError(Exception):
    """Redis cannot be reached or used; the message says which and why."""


class Fleet:
    def __init__(self, url: str, claim_ttl_s: float = 30.0, max_waiting: int = 20_000):
        try:
            self.redis = redis.Redis.from_url(url, socket_timeout=60, socket_connect_timeout=10)
        except ValueError as exc:
            raise FleetError(f"bad Redis URL {url!r}: {exc}") from None
        self.url = url
        self.prefix = "wirecrawl:fleet"
        self.results = f"{self.prefix}:results"
        self.claim_ttl_ms = int(claim_ttl_s * 1000)
        self.max_waiting = max_waiting
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._claimed: set[str] = set()

    def check(self) -> None:
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise FleetError(f"cannot reach the fleet's Redis at {self.url}: {exc}") from None

    # -- workers ------------------------------------------------------------------------------
    def heartbeat(self) -> None:
        """Say this worker is alive, and keep its claims, for another claim time."""
        now = _ms()
        p = self.redis.pipeline(transaction=False)
        p.zadd(f"{self.prefix}:workers", {self.me: now + self.claim_ttl_ms})
        for path in self._claimed:
            p.set(self._claim_key(path), self.me, px=self.claim_ttl_ms)
        p.execute()

    def leave(self) -> None:
        self.redis.zrem(f"{self.prefix}:workers", self.me)
        for path in self._claimed:
            self.redis.delete(self._claim_key(path))
        self._claimed.clear()

    def workers_alive(self) -> int:
        return self.redis.zcount(f"{self.prefix}:workers", _ms(), "+inf")

    # -- input files ----------------------------------------------------------------------------
    def _claim_key(self, path: str) -> str:
        return f"{self.prefix}:claim:{path}"

    def claim(self, path: str) -> bool:
        """Take this input file unless it is done or another live worker holds it."""
        if self.redis.sismember(f"{self.prefix}:done", path):
            return False
        if self.redis.set(self._claim_key(path), self.me, nx=True, px=self.claim_ttl_ms):
            self._claimed.add(path)
            return True
        return False

    def done(self, path: str) -> bool:
        return bool(self.redis.sismember(f"{self.prefix}:done", path))

    def held_by_the_living(self, path: str) -> bool:
        """Is this file claimed by a worker that is still alive (it will finish it)? A claim whose worker
        stopped beating is waited out: it expires within a claim time."""
        holder = self.redis.get(self._claim_key(path))
        score = self.redis.zscore(f"{self.prefix}:workers", holder) if holder else None
        return score is not None and score > _ms()

    def mark_done(self) -> None:
        """Every file this worker claimed has all its results in the stream."""
        if self._claimed:
            self.redis.sadd(f"{self.prefix}:done", *sorted(self._claimed))
            self.redis.delete(*[self._claim_key(p) for p in self._claimed])
            self._claimed.clear()

    # -- results --------------------------------------------------------------------------------
    def waiting(self) -> int:
        """Results not filed yet (a filed one is deleted from the stream once acknowledged)."""
        return self.redis.xlen(self.results)

    def append(self, entries: list[bytes]) -> None:
        """Add results to the stream, after waiting while it holds more than `max_waiting` unfiled ones
        (nothing is ever trimmed away: the workers slow down instead)."""
        while self.waiting() > self.max_waiting:
            self.heartbeat()
            time.sleep(0.2)
        p = self.redis.pipeline(transaction=False)
        for data in entries:
            p.xadd(self.results, {"r": data})
        p.execute()

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.results, _GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def take(self, consumer: str, count: int, block_ms: int) -> list[tuple[bytes, bytes]]:
        """(id, result) of up to `count` results: first those another filer read and did not acknowledge
        (only the filer that holds the store's writer lock reads, so their reader is gone), then new ones."""
        _, claimed, _ = self.redis.xautoclaim(self.results, _GROUP, consumer, min_idle_time=0, start_id="0-0",
                                              count=count)
        entries = [(i, f[b"r"]) for i, f in claimed if f]
        if entries:
            return entries
        found = self.redis.xreadgroup(_GROUP, consumer, {self.results: ">"}, count=count, block=block_ms)
        return [(i, f[b"r"]) for _, rows in found for i, f in rows if f]

    def acknowledge(self, ids: list[bytes]) -> None:
        """Filed: acknowledged, and deleted from the stream."""
        if ids:
            p = self.redis.pipeline(transaction=True)
            p.xack(self.results, _GROUP, *ids)
            p.xdel(self.results, *ids)
            p.execute()


def _ms() -> int:
    return int(time.time() * 1000)
