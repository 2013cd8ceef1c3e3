"""RedisTokenStore: tokens shared by every app server, on redis-py (``gong-authlib[redis]``).

Layout, under a configurable namespace (default ``gong-authlib``):

* ``{ns}:token:{customer}``: the serialized (optionally encrypted) token;
* ``{ns}:customers``: a set of customer names, updated in the same transaction as the token;
* ``{ns}:status:{customer}``: a hash (``state``, ``since``, ``reason``) when the customer is
  not active; ``put`` deletes it in the token's transaction. Keys written by older releases
  need no migration: no status key means ``active``;
* ``{ns}:issued``: a sorted set, each customer's newest ``issued_at`` ever put (``ZADD GT`` in
  the token's transaction), so a token key written back to an older value is seen;
* ``{ns}:lock:{customer}``: the refresh lock, redis-py's :class:`redis.lock.Lock` (``SET NX
  PX`` with a random owner token, released by a compare-and-delete script, so only its owner
  can release it, and it expires by itself after the lease);
* ``{ns}:state:{sha256}``: an OAuth state, taken with ``GETDEL`` (Redis 6.2 or later; atomic:
  one worker wins), expiring by itself with Gong's code; ``{ns}:states`` (a sorted set by
  expiry) lets ``purge_states`` count and drop the expired ones.
* ``{ns}:intent:{customer}``: the refresh in flight (stores/intents.py), a hash (``owner``,
  ``spent``, ``deadline``) written and cleared only by the scripts below; ``put`` and
  ``delete`` drop it in their transactions. ``{ns}:identity`` and ``{ns}:reset``: the store
  identity and the last reset record (stores/identity.py);
* ``{ns}:rate:{customer}``: Gong's rate budget (stores/rate_budget.py), a hash changed only by
  the Lua scripts below, timed by the server's ``TIME``, expiring two days after last use.
* ``{ns}:webhook-keys:{customer}``: the customer's webhook public keys, a hash of fingerprint
  -> ``added_at`` and the key (sealed in an encrypted store; ``HSETNX``: adding a key twice
  keeps the first).

Refresh tokens are credentials you cannot get back without the customer's admin: run Redis
with persistence (``appendonly yes``, ``appendfsync everysec`` or ``always``) and replicas, or
a restart loses every customer's authorization.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.stores.codec import TokenCodec
from gong_authlib.stores.contracts import TokenStore, check_customer
from gong_authlib.stores.identity import StoreReset, reset_from_text, reset_to_text
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.rate_budget import CLOCK_STEP, DAY, Budget, Reservation, refusal_named
from gong_authlib.stores.status import CustomerStatus, new_status, status_from_row
from gong_authlib.stores.urls import store_scheme
from gong_authlib.token import Token

if TYPE_CHECKING:
    import redis

log = get_logger("stores")

T = TypeVar("T")

# Redis runs a script alone, so each of these reads and writes a customer's rate hash as one
# atomic step: no other client sees or changes it in between. They mirror
# stores/rate_budget.py's reserve() and pause() (tests/test_rate_reserve_mirrors.py runs the
# reservation and reserve() over the same cases). Times travel as strings: Redis would
# truncate a Lua number to an integer on the way back.
_NOW = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
"""

# The customer's rate hash, moved onto this clock if it was stepped back (rate_budget.py's
# on_this_clock). Loaded by every script below.
_STATE = (
    """
local s = redis.call('HMGET', KEYS[1], 'next_slot', 'paused_until', 'day', 'day_count', 'seen')
local next_slot, paused = tonumber(s[1]) or 0, tonumber(s[2]) or 0
local seen_day, count = tonumber(s[3]) or -1, tonumber(s[4]) or 0
local seen = tonumber(s[5]) or 0
if seen - now > """
    + repr(CLOCK_STEP)
    + """ then
  next_slot, paused, seen = next_slot - (seen - now), paused - (seen - now), now
end
"""
)

# KEYS[1] rate hash; ARGV now ('' = server time), interval, per_day, max_wait, day, expiry ms.
# Returns {refusal ('' when granted), seconds}: the wait for the slot, or until the refusal ends.
_RESERVE = (
    _NOW
    + _STATE
    + """
local interval, per_day = tonumber(ARGV[2]), tonumber(ARGV[3])
local max_wait, day_len = tonumber(ARGV[4]), tonumber(ARGV[5])
local start = math.max(now, next_slot, paused)
if paused - now > max_wait then return {'paused', fmt(paused - now)} end
if start - now > max_wait then return {'queue', fmt(start - now)} end
local day = math.floor(start / day_len)
if day ~= seen_day then count = 0 end
if count >= per_day then return {'daily', fmt((day + 1) * day_len - now)} end
redis.call('HSET', KEYS[1], 'next_slot', fmt(start + interval), 'paused_until', fmt(paused),
  'day', tostring(day), 'day_count', tostring(count + 1), 'seen', fmt(math.max(seen, now)))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {'', fmt(start - now)}
"""
)

# KEYS[1] rate hash; ARGV now ('' = server time), seconds, expiry ms. A longer pause stands.
_PAUSE = (
    _NOW
    + _STATE
    + """
local wanted = math.max(paused, now + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'next_slot', fmt(next_slot), 'paused_until', fmt(wanted),
  'seen', fmt(math.max(seen, now)))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return fmt(wanted - now)
"""
)

# KEYS[1] rate hash; ARGV now ('' = server time). Returns the seconds of pause left.
_PAUSED_FOR = (
    _NOW
    + _STATE
    + """
return fmt(math.max(0, paused - now))
"""
)
_RATE_EXPIRY_MS = str(int(2 * DAY * 1000))

# Refresh intents (stores/intents.py). KEYS[1] token, KEYS[2] intent; ARGV owner, spent,
# deadline, expiry ms. Recorded only beside a stored token; Redis drops a forgotten one a
# day after its deadline.
_OPEN_INTENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'spent', ARGV[2], 'deadline', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""
# KEYS[1] intent; ARGV owner.
_CLOSE_INTENT = """
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS token, customers, status, intent, issued; ARGV customer, data, spent, issued_at. The
# write, the intent check and the issue mark in one script: one round trip, nothing between.
_SETTLE = """
if redis.call('HGET', KEYS[4], 'spent') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('ZADD', KEYS[5], 'GT', ARGV[4], ARGV[1])
return 1
"""
# KEYS token, customers, issued; ARGV customer, data, issued_at.
_RESTORE = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX') then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[1])
  return 1
end
return 0
"""
_INTENT_EXPIRY_MS = int(DAY * 1000)

# KEYS[1] a customer's webhook-keys hash; ARGV fingerprint, stored text. Rewrites the row's
# text, keeping its date, only if the row is there (a key removed meanwhile stays removed).
_RESEAL_WEBHOOK_KEY = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local added = string.match(old, '^(%S+) ')
redis.call('HSET', KEYS[1], ARGV[1], added .. ' ' .. ARGV[2])
return 1
"""


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:
        raise TokenStoreError(
            "the Redis store needs redis-py: pip install 'gong-authlib[redis]'"
        ) from None
    return redis


class RedisTokenStore(TokenStore):
    """Tokens in Redis, for fleets of app servers sharing customers."""

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        namespace: str = "gong-authlib",
        encryption_keys: Sequence[str | bytes] = (),
        client: redis.Redis | None = None,
        socket_timeout: float = 5.0,
        migrate_plaintext: bool = False,
    ) -> None:
        super().__init__()
        self._module = _redis_module()
        protect_third_party_loggers()
        if client is None:
            store_scheme(url)  # a malformed URL fails now, without echoing it
        parts = urlsplit(url)
        # For messages: where the server is, never the password in the URL.
        self._where = f"redis {parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path}"
        self._namespace = namespace
        self._held: dict[str, Any] = {}  # owner -> the redis-py Lock that owner holds
        self._scripts: dict[str, Any] = {}  # name -> registered Lua script (rate limit)
        self._codec = TokenCodec(encryption_keys, migrate_plaintext=migrate_plaintext)
        self._redis: redis.Redis = client or self._module.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=30,
        )
        self._check_server()

    def __repr__(self) -> str:
        return f"RedisTokenStore({self._where!r}, namespace={self._namespace!r})"

    def _check_server(self) -> None:
        """Reach the server once now, so a wrong URL fails here and says what is wrong,
        not at the first token read in the middle of a request."""
        errors = self._module.exceptions
        try:
            self._redis.ping()
        except errors.AuthenticationError:
            raise TokenStoreError(
                f"token store {self._where}: the server refused the credentials; check the "
                "password (and user) in the store URL"
            ) from None
        except errors.ResponseError as exc:
            if "DB index is out of range" not in str(exc):
                raise TokenStoreError(
                    f"token store {self._where}: the server refused to connect "
                    f"({type(exc).__name__})"
                ) from None
            database = self._redis.connection_pool.connection_kwargs.get("db", 0)
            raise TokenStoreError(
                f"token store {self._where}: database {database} does not exist on this "
                "server (Redis has databases 0-15 unless its `databases` setting says "
                "otherwise); use an index below it in the store URL"
            ) from None
        except errors.RedisError as exc:
            raise TokenStoreError(
                f"token store {self._where}: cannot connect ({type(exc).__name__}); is Redis "
                "running and reachable?"
            ) from None

    def _key(self, kind: str, customer: str = "") -> str:
        return f"{self._namespace}:{kind}:{customer}" if customer else f"{self._namespace}:{kind}"

    def _guarded(self, action: str, work: Callable[[], T]) -> T:
        try:
            return work()
        except self._module.exceptions.RedisError as exc:
            raise TokenStoreError(
                f"token store {self._where}: {action} failed ({type(exc).__name__}); "
                "is Redis running and reachable?"
            ) from None

    def get(self, customer: str) -> Token | None:
        check_customer(customer)
        raw = self._guarded("read", lambda: self._redis.get(self._key("token", customer)))
        return None if raw is None else self._codec.decode(raw, customer=customer)

    def put(self, customer: str, token: Token) -> None:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)

        def write() -> None:
            pipeline = self._redis.pipeline(transaction=True)  # MULTI/EXEC: all or nothing
            pipeline.set(self._key("token", customer), data)
            pipeline.sadd(self._key("customers"), customer)
            pipeline.delete(self._key("status", customer))
            # GT: the mark only rises (a new member is still added).
            pipeline.zadd(self._key("issued"), {customer: token.issued_at}, gt=True)
            pipeline.delete(self._key("intent", customer))
            pipeline.execute()

        self._guarded("write", write)

    def newest_issue(self, customer: str) -> float | None:
        check_customer(customer)
        score = self._guarded("read", lambda: self._redis.zscore(self._key("issued"), customer))
        return None if score is None else float(score)

    def delete(self, customer: str) -> bool:
        check_customer(customer)

        def remove() -> bool:
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.delete(self._key("token", customer))
            pipeline.srem(self._key("customers"), customer)
            pipeline.delete(self._key("status", customer))
            pipeline.zrem(self._key("issued"), customer)
            pipeline.delete(self._key("intent", customer))
            deleted, *_ = pipeline.execute()
            return bool(deleted)

        return self._guarded("delete", remove)

    def customers(self) -> list[str]:
        members = self._guarded("list", lambda: self._redis.smembers(self._key("customers")))
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    @staticmethod
    def _status_of(fields: dict[Any, Any]) -> CustomerStatus:
        text = {
            (k.decode() if isinstance(k, bytes) else str(k)): (
                v.decode() if isinstance(v, bytes) else str(v)
            )
            for k, v in fields.items()
        }
        since = text.get("since")
        return status_from_row(
            text.get("state"), float(since) if since else None, text.get("reason")
        )

    def get_with_status(self, customer: str) -> tuple[Token | None, CustomerStatus]:
        check_customer(customer)

        def read() -> list[Any]:
            pipeline = self._redis.pipeline(transaction=False)
            pipeline.get(self._key("token", customer))
            pipeline.hgetall(self._key("status", customer))
            return list(pipeline.execute())

        raw, fields = self._guarded("read", read)
        token = None if raw is None else self._codec.decode(raw, customer=customer)
        return token, self._status_of(fields)

    def status(self, customer: str) -> CustomerStatus:
        check_customer(customer)
        return self._status_of(
            self._guarded("read", lambda: self._redis.hgetall(self._key("status", customer)))
        )

    def set_status(
        self,
        customer: str,
        state: str,
        *,
        reason: str | None = None,
        since: float | None = None,
    ) -> None:
        check_customer(customer)
        status = new_status(state, reason, since)

        def write() -> None:
            key = self._key("status", customer)
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.delete(key)
            if not status.active:
                fields: dict[Any, Any] = {
                    "state": status.state,
                    "since": repr(status.since),
                }
                if status.reason is not None:
                    fields["reason"] = status.reason
                pipeline.hset(key, mapping=fields)
            pipeline.execute()

        self._guarded("write", write)

    def statuses(self) -> dict[str, CustomerStatus]:
        names = self.customers()

        def read() -> list[Any]:
            pipeline = self._redis.pipeline(transaction=False)
            for name in names:
                pipeline.hgetall(self._key("status", name))
            return list(pipeline.execute())

        found = self._guarded("list", read) if names else []
        return {name: self._status_of(fields) for name, fields in zip(names, found, strict=True)}

    @property
    def location(self) -> str:
        return self._where

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        lock = self._redis.lock(self._key("lock", customer), timeout=lease, thread_local=False)
        if not self._guarded("lock", lambda: lock.acquire(blocking=False, token=owner)):
            return False
        self._held[owner] = lock  # released through the same redis-py Lock, by its token
        return True

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        lock = self._held.get(owner)
        if lock is None:
            return False

        def extend() -> bool:
            # redis-py's Lock.extend: a script that resets the TTL only if the token is ours.
            try:
                return bool(lock.extend(lease, replace_ttl=True))
            except self._module.exceptions.LockError:  # not ours any more: lost, not broken
                return False

        return self._guarded("renew lock", extend)

    def _release_lease(self, customer: str, owner: str) -> None:
        lock = self._held.pop(owner, None)
        if lock is None:
            return
        try:
            self._guarded("unlock", lock.release)
        except TokenStoreError:
            # The lease ran out first: the lock may be someone else's now, and redis-py
            # refused to delete it. The refresh itself has already been persisted.
            log.warning("the refresh lock of customer %s expired before release", customer)

    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        # Redis's own expiry (a margin past the lifetime) cleans up even if nobody purges.
        ttl_ms = int((self.state_lifetime + 60) * 1000)

        def write() -> None:
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.set(self._key("state", key), data, px=ttl_ms)
            pipeline.zadd(self._key("states"), {key: expires_at})
            pipeline.execute()

        self._guarded("state write", write)

    def _take_state(self, key: str) -> bytes | None:
        def take() -> bytes | None:
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.getdel(self._key("state", key))
            pipeline.zrem(self._key("states"), key)
            data, _ = pipeline.execute()
            return None if data is None else bytes(data)

        return self._guarded("state read", take)

    def _purge_states(self, now: float) -> int:
        def purge() -> int:
            index = self._key("states")
            expired = self._redis.zrangebyscore(index, "-inf", f"({now}")
            if not expired:
                return 0
            names = [m.decode() if isinstance(m, bytes) else str(m) for m in expired]
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.delete(*(self._key("state", name) for name in names))
            pipeline.zrem(index, *names)
            pipeline.execute()
            return len(names)

        return self._guarded("state purge", purge)

    def _script(self, name: str, source: str) -> Any:
        if name not in self._scripts:
            self._scripts[name] = self._redis.register_script(source)  # EVALSHA, else EVAL
        return self._scripts[name]

    def rate_reserve(
        self, customer: str, budget: Budget, *, now: float | None = None
    ) -> Reservation:
        check_customer(customer)
        args = [
            "" if now is None else repr(now),
            repr(budget.interval),
            budget.per_day,
            repr(budget.max_wait),
            repr(DAY),
            _RATE_EXPIRY_MS,
        ]
        refusal, seconds = self._guarded(
            "rate limit",
            lambda: self._script("reserve", _RESERVE)(
                keys=[self._key("rate", customer)], args=args
            ),
        )
        return Reservation(float(seconds), refusal_named(refusal))

    def rate_pause(self, customer: str, seconds: float, *, now: float | None = None) -> None:
        check_customer(customer)
        args = ["" if now is None else repr(now), repr(float(seconds)), _RATE_EXPIRY_MS]
        self._guarded(
            "rate limit",
            lambda: self._script("pause", _PAUSE)(keys=[self._key("rate", customer)], args=args),
        )

    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        check_customer(customer)
        args = ["" if now is None else repr(now)]
        left = self._guarded(
            "rate limit",
            lambda: self._script("paused_for", _PAUSED_FOR)(
                keys=[self._key("rate", customer)], args=args
            ),
        )
        return float(left)

    # -- refresh intents and the store identity (stores/intents.py, stores/identity.py) --

    def open_intent(self, customer: str, intent: RefreshIntent) -> bool:
        check_customer(customer)
        keys = [self._key("token", customer), self._key("intent", customer)]
        ttl = max(1, int((intent.deadline - time.time()) * 1000)) + _INTENT_EXPIRY_MS
        args = [intent.owner, intent.spent, repr(intent.deadline), ttl]
        return bool(
            self._guarded(
                "intent write", lambda: self._script("open_intent", _OPEN_INTENT)(keys, args)
            )
        )

    def intent(self, customer: str) -> RefreshIntent | None:
        check_customer(customer)
        fields = self._guarded(
            "intent read", lambda: self._redis.hgetall(self._key("intent", customer))
        )
        text = {_text(k): _text(v) for k, v in fields.items()}
        if not {"owner", "spent", "deadline"} <= set(text):
            return None
        return RefreshIntent(text["owner"], text["spent"], float(text["deadline"]))

    def close_intent(self, customer: str, owner: str) -> None:
        check_customer(customer)
        keys = [self._key("intent", customer)]
        self._guarded(
            "intent write", lambda: self._script("close_intent", _CLOSE_INTENT)(keys, [owner])
        )

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)
        keys = [
            self._key("token", customer),
            self._key("customers"),
            self._key("status", customer),
            self._key("intent", customer),
            self._key("issued"),
        ]
        args = [customer, data, spent, repr(token.issued_at)]
        return bool(self._guarded("write", lambda: self._script("settle", _SETTLE)(keys, args)))

    def store_identity(self) -> str | None:
        found = self._guarded("read", lambda: self._redis.get(self._key("identity")))
        return None if found is None else _text(found)

    def claim_identity(self, candidate: str) -> str:
        def claim() -> str:
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.set(self._key("identity"), candidate, nx=True)
            pipeline.get(self._key("identity"))
            return _text(pipeline.execute()[1])

        return self._guarded("identity write", claim)

    def restore(self, customer: str, token: Token) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)
        keys = [self._key("token", customer), self._key("customers"), self._key("issued")]
        args = [customer, data, repr(token.issued_at)]
        return bool(self._guarded("write", lambda: self._script("restore", _RESTORE)(keys, args)))

    def record_reset(self, reset: StoreReset) -> None:
        self._guarded(
            "reset write", lambda: self._redis.set(self._key("reset"), reset_to_text(reset))
        )

    def reset_record(self) -> StoreReset | None:
        return reset_from_text(self._guarded("read", lambda: self._redis.get(self._key("reset"))))

    def clear_reset(self) -> None:
        self._guarded("reset write", lambda: self._redis.delete(self._key("reset")))

    # -- webhook keys (WebhookKeyRecords) ------------------------------------------------

    def _put_webhook_key(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> bool:
        key, value = self._key("webhook-keys", customer), f"{added_at!r} {stored}"
        return bool(
            self._guarded("webhook key write", lambda: self._redis.hsetnx(key, fingerprint, value))
        )

    def _reseal_webhook_key(self, customer: str, fingerprint: str, stored: str) -> bool:
        script = self._script("reseal_webhook_key", _RESEAL_WEBHOOK_KEY)
        return bool(
            self._guarded(
                "webhook key write",
                lambda: script(
                    keys=[self._key("webhook-keys", customer)], args=[fingerprint, stored]
                ),
            )
        )

    def _webhook_key_rows(self, customer: str) -> list[tuple[str, str, float]]:
        from gong_authlib.stores.webhook_keys import stored_added_at

        fields = self._guarded(
            "webhook key read", lambda: self._redis.hgetall(self._key("webhook-keys", customer))
        )
        rows = []
        for name, value in fields.items():
            text = value.decode() if isinstance(value, bytes) else str(value)
            added_at, _, stored = text.partition(" ")
            fingerprint = name.decode() if isinstance(name, bytes) else str(name)
            rows.append((fingerprint, stored, stored_added_at(added_at)))
        return rows

    def _delete_webhook_key(self, customer: str, fingerprint: str) -> bool:
        return bool(
            self._guarded(
                "webhook key delete",
                lambda: self._redis.hdel(self._key("webhook-keys", customer), fingerprint),
            )
        )

    def _webhook_key_owners(self) -> list[str]:
        prefix = self._key("webhook-keys", "") + ":"
        names = self._guarded(
            "webhook key list", lambda: list(self._redis.scan_iter(match=f"{prefix}*", count=500))
        )
        found = (n.decode() if isinstance(n, bytes) else str(n) for n in names)
        return sorted(name.removeprefix(prefix) for name in found)

    def close(self) -> None:
        self._redis.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
