"""The fleet's Redis: a stream of extraction results that one filer reads with a consumer group; claims
that expire unless their worker renews them (on input files, outlets, hosts and article URLs, so each is
worked on by one worker at a time, and again by another when its worker dies); the workers' heartbeats.
Everything under one key prefix, in the database the URL names."""
from __future__ import annotations

import os
import socket
import time
import uuid

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

_GROUP = "filers"

# Times are the Redis server's (the machines' clocks may differ), in ms.
_NOW = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# Take a claim (KEYS[1]) that is free, already ours (renewing it) or held by a worker that is gone from the
# workers' heartbeats (KEYS[2]); never one whose result was sent. 1 if it is ours now; -1 if Redis no
# longer holds the epoch the worker joined (KEYS[3], ARGV[3]): what it holds cannot be trusted.
_CLAIM = _NOW + """
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then
  if v == 'sent' then return 0 end
  local alive = redis.call('ZSCORE', KEYS[2], v)
  if alive and tonumber(alive) > now then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1
"""
# A worker's heartbeat: alive until now + ARGV[2] ms.
_BEAT = _NOW + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"""
# Let go of a claim of ours: at once (ARGV[2] = 0) or after ARGV[2] ms (a host's cool-down).
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""
_SENT = "sent"   # an article URL's claim once its result is in the stream (kept until surely filed)


class FleetError(Exception):
    """Redis cannot be reached or used; the message says which and why."""


class FleetRestarted(Exception):
    """The fleet's Redis lost what it held (it restarted empty, or was emptied): claims, finished files and
    the results not filed yet are gone."""


# A Redis that restarts is waited for, up to about a minute, before a call fails.
_RETRY = {"retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), 40),
          "retry_on_error": [redis.ConnectionError, redis.TimeoutError]}


class Fleet:
    def __init__(self, url: str, claim_ttl_s: float = 30.0, max_waiting: int = 20_000, sent_ttl_s: float = 3600.0):
        try:
            self.redis = redis.Redis.from_url(url, socket_timeout=60, socket_connect_timeout=10, **_RETRY)
            self._first = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        except ValueError as exc:
            raise FleetError(f"bad Redis URL {url!r}: {exc}") from None
        self.url = url
        self.prefix = "wirecrawl:fleet"
        self.results = f"{self.prefix}:results"
        self.claim_ttl_ms = int(claim_ttl_s * 1000)
        self.max_waiting = max_waiting
        self.sent_ttl_ms = int(sent_ttl_s * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.started_ms = 0
        self.epoch = b""   # what this Redis held when this worker joined (FleetRestarted when it changes)
        self._held: set[str] = set()   # the keys of the claims this worker holds (renewed by its heartbeat)
        self._beat_at = 0.0
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)
        self._beat = self.redis.register_script(_BEAT)
        self._workers = f"{self.prefix}:workers"

    def check(self) -> None:
        """Reach Redis at once (no retrying: a wrong URL is said straight away) and join its epoch."""
        try:
            self._first.ping()
            self._first.close()
            self.started_ms = self.now_ms()
            self.join()
        except redis.RedisError as exc:
            raise FleetError(f"cannot reach the fleet's Redis at {self.url}: {exc}") from None

    def join(self) -> None:
        """Take the epoch of what Redis holds (made by the first to come after it started empty)."""
        self.redis.set(f"{self.prefix}:epoch", uuid.uuid4().hex, nx=True)
        self.epoch = self.redis.get(f"{self.prefix}:epoch")

    def reclaim(self) -> None:
        """After a restart: take again the claims this worker held (those another took meanwhile are let go)."""
        for key in list(self._held):
            if self._take(key) != 1:
                self._held.discard(key)

    # -- workers ------------------------------------------------------------------------------
    def heartbeat(self, force: bool = True) -> None:
        """Say this worker is alive, and keep its claims, for another claim time (unless `force` is false and
        it said so less than a quarter of a claim time ago)."""
        if not force and time.monotonic() - self._beat_at < self.claim_ttl_ms / 4000:
            return
        self._beat_at = time.monotonic()
        p = self.redis.pipeline(transaction=False)
        self._beat(keys=[self._workers], args=[self.me, self.claim_ttl_ms], client=p)
        for key in self._held:
            p.pexpire(key, self.claim_ttl_ms)
        p.execute()

    def leave(self) -> None:
        """Let go of every claim, and say this worker is gone."""
        p = self.redis.pipeline(transaction=False)
        for key in self._held:
            self._release(keys=[key], args=[self.me, 0], client=p)
        p.zrem(self._workers, self.me)
        p.execute()
        self._held.clear()

    def now_ms(self) -> int:
        seconds, micro = self.redis.time()
        return seconds * 1000 + micro // 1000

    def workers_alive(self) -> int:
        return self.redis.zcount(self._workers, self.now_ms() + 1, "+inf")

    # -- claims ---------------------------------------------------------------------------------
    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    def _take(self, key: str) -> int:
        return self._claim(keys=[key, self._workers, f"{self.prefix}:epoch"],
                           args=[self.me, self.claim_ttl_ms, self.epoch])

    def claim(self, kind: str, name: str) -> bool:
        """Hold `name` (a file, an outlet, a host, an article URL) unless another worker does. Raises
        FleetRestarted when Redis lost what it held since this worker joined (a claim's absence, or a
        finished mark's, says nothing then)."""
        key = self._key(kind, name)
        taken = self._take(key)
        if taken == -1:
            raise FleetRestarted(f"the fleet's Redis at {self.url} lost what it held (restarted empty?)")
        if taken:
            self._held.add(key)
            return True
        return False

    def release(self, kind: str, name: str, after_ms: int = 0) -> None:
        key = self._key(kind, name)
        self._held.discard(key)
        self._release(keys=[key], args=[self.me, max(0, int(after_ms))])

    def held_by_the_living(self, kind: str, name: str) -> bool:
        """Is this claimed by a worker that is still alive (it will finish it)? A claim whose worker
        stopped beating is waited out: it expires within a claim time."""
        holder = self.redis.get(self._key(kind, name))
        score = self.redis.zscore(self._workers, holder) if holder else None
        return score is not None and score > self.now_ms()

    def sent(self, url_keys: list[str]) -> None:
        """These article URLs have their results in the stream: no worker fetches them again before the
        filer has stored them (and the store says so)."""
        if url_keys:
            p = self.redis.pipeline(transaction=False)
            for k in url_keys:
                key = self._key("url", k)
                self._held.discard(key)
                p.set(key, _SENT, px=self.sent_ttl_ms)
            p.execute()

    # -- finished work --------------------------------------------------------------------------
    def done(self, kind: str, name: str, since_ms: int = 0) -> bool:
        """Was `name` finished (at or after `since_ms`)?"""
        when = self.redis.hget(f"{self.prefix}:done:{kind}", name)
        return when is not None and int(when) >= since_ms

    def mark_done(self, kind: str, names: list[str]) -> None:
        """Finished, with all its results in the stream; its claims let go."""
        if names:
            now = self.now_ms()
            p = self.redis.pipeline(transaction=False)
            p.hset(f"{self.prefix}:done:{kind}", mapping={n: now for n in names})
            for n in names:
                self._release(keys=[self._key(kind, n)], args=[self.me, 0], client=p)
                self._held.discard(self._key(kind, n))
            p.execute()

    # -- results --------------------------------------------------------------------------------
    def waiting(self) -> int:
        """Results not filed yet (a filed one is deleted from the stream once acknowledged)."""
        return self.redis.xlen(self.results)

    def backlogged(self) -> bool:
        return self.waiting() > self.max_waiting

    def append(self, entries: list[bytes], wait: bool = True) -> list[tuple[int, int]]:
        """Add results to the stream, after waiting (`wait`) while it holds more than `max_waiting` unfiled
        ones (nothing is ever trimmed away: the workers slow down instead); returns their ids."""
        while wait and self.backlogged():
            self.heartbeat()
            time.sleep(0.2)
        p = self.redis.pipeline(transaction=False)
        for data in entries:
            p.xadd(self.results, {"r": data})
        return [_id(i) for i in p.execute()]

    def filed_before(self) -> tuple[int, int] | None:
        """Every result with a smaller id than this has been filed (None: every result so far). Raises
        FleetRestarted when Redis no longer holds what this worker sent (an empty stream would say filed)."""
        p = self.redis.pipeline(transaction=True)
        p.get(f"{self.prefix}:epoch")
        p.xrange(self.results, "-", "+", count=1)
        epoch, oldest = p.execute()
        if epoch != self.epoch:
            raise FleetRestarted(f"the fleet's Redis at {self.url} lost what it held (restarted empty?)")
        return _id(oldest[0][0]) if oldest else None

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.results, _GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def take(self, consumer: str, count: int, block_ms: int) -> list[tuple[bytes, bytes]]:
        """(id, result) of up to `count` results: first those another filer read and did not acknowledge
        (only the filer that holds the store's writer lock reads, so their reader is gone), then new ones."""
        try:
            _, claimed, _ = self.redis.xautoclaim(self.results, _GROUP, consumer, min_idle_time=0, start_id="0-0",
                                                  count=count)
            entries = [(i, f[b"r"]) for i, f in claimed if f]
            if entries:
                return entries
            found = self.redis.xreadgroup(_GROUP, consumer, {self.results: ">"}, count=count, block=block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_group()   # (Redis restarted empty: the workers send again what was lost)
            return []
        return [(i, f[b"r"]) for _, rows in found for i, f in rows if f]

    def acknowledge(self, ids: list[bytes]) -> None:
        """Filed: acknowledged, and deleted from the stream."""
        if ids:
            p = self.redis.pipeline(transaction=True)
            p.xack(self.results, _GROUP, *ids)
            p.xdel(self.results, *ids)
            try:
                p.execute()
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):   # (Redis restarted empty: nothing left to acknowledge)
                    raise


def _id(stream_id: bytes) -> tuple[int, int]:
    ms, _, seq = stream_id.partition(b"-")
    return int(ms), int(seq)
