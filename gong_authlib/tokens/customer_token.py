"""CustomerToken: one customer's token kept valid, for any HTTP transport.

This is the token core every front end shares (``GongAuth`` for requests, ``GongHttpxAuth``
for httpx): the transports only attach a header and read a 401, so the refresh logic exists
once and the front ends cannot drift apart.

The hot path (:meth:`CustomerToken.current` with a fresh token in memory) does no I/O and takes
no lock: one clock read and one comparison. Everything else happens on the stale path, in this
order, as the reliability rules ask:

1. take the customer's in-process lock (one refresher per process);
2. re-read the store: another thread or process may have refreshed already;
3. take the store's cross-process lease lock, and re-read again under it;
4. refresh only if the stored token is still the one seen as stale;
5. if another worker's refresh intent for that refresh token is open (stores/intents.py), do
   not present it: wait for that worker's write (bounded), or present it once the intent's
   deadline has passed;
6. record our own intent, then ask Gong;
7. persist the new token before using it (Gong's refresh tokens are single-use), settling the
   intent in the same round trip;
8. on ``invalid_grant``, re-read the store once more, then raise ReauthorizationRequired
   (recording the customer as revoked, unless another worker's intent for the refresh token
   is open: its new pair is on the way). The intent is left recorded, so a worker whose
   intent's deadline passed while it held the successor can still settle it late.

A customer missing from the store is TokenNotFound, unless the store's identity record is
gone or another (the store was emptied or replaced, stores/identity.py) and this worker holds
the customer's pair: it is put back, and the reset recorded for ``tokens check``.

Every trigger (expiry, a 401, a manual refresh) is the same double-checked routine with a
different predicate. What keeps a refresh token from ever being lost on the way:

* Gong's answer is persisted before it is judged (``TokenAnswer``):
  an untrusted base URL is kept and refused at send time, an unusable access token is kept
  expired and reported after the write;
* a store write that fails after Gong answered is retried with backoff while the lease lasts;
  if it still fails, the token stays in memory, in use, and a background thread
  (tokens/unsaved.py) writes it as soon as the store answers, with a last attempt at exit
  and on SIGTERM; the open intent keeps other workers from presenting the spent token
  meanwhile, however long the outage lasts up to the intent's deadline;
* the lease is short and renewed while the token call runs (a slow answer or a
  ``Retry-After`` cannot let a second process in to spend the same refresh token), so a
  holder that dies costs seconds; every wait, in-process too, is bounded by
  ``lock_timeout``, and a forked child gets fresh in-process locks;
* the customer's status lives in the store and is read on the stale path only: after one
  ``invalid_grant`` no process asks Gong again until a new token is ``put``.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import FrozenInstanceError, replace
from typing import TYPE_CHECKING

from gong_authlib.clock import Clock
from gong_authlib.errors import (
    ClientCredentialsRejected,
    OriginMismatch,
    ReauthorizationRequired,
    TokenNotFound,
    TokenStoreError,
)
from gong_authlib.gong.hosts import untrusted_reason
from gong_authlib.logs import get_logger
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.origins import origin_in_message, origin_of
from gong_authlib.stores.contracts import DEFAULT_LEASE, TokenStore
from gong_authlib.stores.identity import StoreReset
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.status import (
    ACTIVE_STATUS,
    REAUTHORIZATION_REQUIRED,
    UNTRUSTED_ORIGIN,
    CustomerStatus,
)
from gong_authlib.stores.writes import write_with_retries
from gong_authlib.telemetry import refresh_skipped, refreshing
from gong_authlib.token import Token, fingerprint, unsafe_in_header
from gong_authlib.tokens import secret_pause
from gong_authlib.tokens.unsaved import WRITER, install_exit_hooks

if TYPE_CHECKING:  # a lease comes with the store's lock, at the first refresh (issue 24)
    from gong_authlib.stores.leases import Lease

log = get_logger("auth")

# Refresh five minutes early: enough for clock skew between us and Gong and for a request
# in flight to land before the token dies, small beside Gong's default one-day lifetime.
DEFAULT_LEEWAY = 300.0

# How long another worker may not present a refresh token this worker is spending, if this
# worker never writes the new pair: well past the lease (a store outage after Gong answered
# may last this long and lose nothing), short enough that a worker killed during its token
# call stalls the customer for a minute at most.
DEFAULT_INTENT_HOLD = 60.0
# The longest a caller waits for the lock by default (``lock_timeout`` None): a live holder
# renews its short lease while the token call runs, which may take this long.
DEFAULT_LOCK_WAIT = 30.0
# How often a worker that must not present a refresh token looks for the owner's write.
_INTENT_POLL = 0.05
_INTENT_POLL_LONGEST = 0.5
# An issue time this far in the reader's future means two workers' clocks disagree (a
# sub-second lead is the write's own latency); reported once per process.
_SKEW_REPORTED_BEYOND = 5.0
_skew_reported = threading.Event()

# Gong's answer to a call its app has no scope for: 401, not 403, in production.
# Quotes matched loosely (typographic ones, double quotes) and case ignored: a gateway or a new
# Gong release respelling it must not turn every call back into a refresh.
# Searched through re's own cache: a 401 compiles it, not every cold start (issue 24).
_MISSING_SCOPE = (
    r"you don['\u2019]t have permission to use ['\"\u2018\u2019]([^'\"\u2018\u2019\s]{1,100})"
    r"['\"\u2018\u2019] in your app"
)

_LIVE: weakref.WeakSet[CustomerToken] = weakref.WeakSet()


def _same_grant(one: Token | None, other: Token | None) -> bool:
    """The same refresh token: what tells a store's token from another's. Whole-Token
    equality would compare ``extra`` too, where a NaN Gong sent never equals itself."""
    return one is not None and other is not None and one.refresh_token == other.refresh_token


def _fresh_locks_in_child() -> None:
    """After fork(): the stores have dropped their in-process locks (see stores.base);
    take the child's new ones. A lock a parent thread held at fork time would never be
    released in the child (gunicorn, uWSGI and Celery prefork fork with threads running)."""
    for customer_token in list(_LIVE):
        customer_token._thread_lock = customer_token.store.thread_lock(customer_token.customer)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks_in_child)


class Current:
    """The token in use and what a transport needs of it, swapped in as one object.

    ``prefix`` is ``origin + "/"``: a URL that starts with it is on the customer's origin, the
    cheap test a transport makes before the exact one in :meth:`CustomerToken.check_origin`.
    ``header`` is "Bearer <access token>": a secret, left out of the repr. ``refusal`` says why
    this token may not be sent anywhere (its base URL is not trusted), or is None.
    """

    # A slotted class, immutable like the frozen dataclass it was: a dataclass's generated
    # methods cost every cold start a compile at import (issue 24), and none was used.
    __slots__ = ("header", "origin", "prefix", "refresh_at", "refusal", "token")

    token: Token
    header: str
    refresh_at: float
    origin: str
    prefix: str
    refusal: str | None

    def __init__(
        self,
        *,
        token: Token,
        header: str,
        refresh_at: float,
        origin: str,
        prefix: str,
        refusal: str | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "token", token)
        put(self, "header", header)
        put(self, "refresh_at", refresh_at)
        put(self, "origin", origin)
        put(self, "prefix", prefix)
        put(self, "refusal", refusal)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        return (
            f"Current(token={self.token!r}, refresh_at={self.refresh_at!r}, "
            f"origin={self.origin!r}, prefix={self.prefix!r}, refusal={self.refusal!r})"
        )


class CustomerToken:
    """Keep ``customer``'s token valid: read it, refresh it under the customer's locks, persist it.

    Thread-safe; any number of CustomerTokens (in any number of processes) may share one store.
    """

    def __init__(
        self,
        client: GongOAuthClient,
        store: TokenStore,
        customer: str,
        *,
        leeway: float = DEFAULT_LEEWAY,
        lock_lease: float = DEFAULT_LEASE,
        lock_timeout: float | None = None,
        clock: Clock | None = None,
        intent_hold: float = DEFAULT_INTENT_HOLD,
    ) -> None:
        if leeway < 0:
            raise ValueError("leeway cannot be negative")
        self.client = client
        self.store = store
        self.customer = customer
        self.leeway = leeway
        self.lock_lease = lock_lease
        self.lock_timeout = lock_timeout
        self.intent_hold = intent_hold
        self.clock = clock or client.clock
        # Read by the transports' hot paths without a lock: it is replaced, never mutated.
        self.current: Current | None = None
        self._thread_lock = store.thread_lock(customer)
        # A token Gong issued that the store has not taken yet: the next call writes it first,
        # unless the store has moved past the token it was refreshed from (``_unsaved_from``).
        self._unsaved: Token | None = None
        self._unsaved_from: Token | None = None
        self._scopes_reported: set[str] = set()
        # The token in use when it was obtained for a 401 and Gong has not accepted it yet
        # (Token.after_401): the transports report its first accepted answer (accepted()).
        self.unproven: Current | None = None
        self._refused_again_reported: str | None = None
        _LIVE.add(self)
        install_exit_hooks()

    def __repr__(self) -> str:
        return f"CustomerToken(customer={self.customer!r}, store={self.store!r})"

    # -- what transports and callers ask -------------------------------------------------

    def fresh(self) -> Current:
        """The current token, refreshed first if it is stale: the one freshness check a
        request needs."""
        current = self.current
        if current is not None and self.clock() < current.refresh_at:
            return current
        return self._refresh_under_lock(self._is_stale)

    def refresh(self, *, if_current: Token | None = None) -> Token:
        """Refresh now, under the same locks as an automatic refresh.

        With ``if_current``, refresh only if the stored token is still that one: a no-op
        (returning the stored token) when another caller already refreshed it. This is what a
        transport calls after a 401, so that twenty concurrent 401s make one refresh.
        """
        if if_current is None:
            return self._refresh_under_lock(lambda stored: True).token
        seen = if_current.access_token
        return self._refresh_under_lock(lambda stored: stored.access_token == seen).token

    def after_401(self, failed_header: str, body: bytes | str | None = None) -> Current:
        """The token to resend with after Gong answered 401 to ``failed_header``.

        A 401 that is not a missing scope (:meth:`missing_scope`), for the token that is still
        the stored one, means refresh once and resend once, however young the token: Gong ends
        tokens early (an uninstall, a revocation, its own invalidation). The one exception
        keeps it from looping: a token that was itself obtained for a 401 and that Gong has
        refused again before ever accepting it (``Token.after_401``) is not refreshed for a
        401; the 401 is handed back and a WARNING logged once. If another caller stored a new
        token meanwhile, that one is returned. When the returned header equals
        ``failed_header``, nothing changed: the transport must hand the 401 back instead of
        resending. ReauthorizationRequired if the customer's refresh token is dead (also when
        another process found it so: no token call then).
        """
        if body is not None and self.missing_scope(body) is not None:
            return self.current or self.fresh()

        def still_the_failed_one(stored: Token) -> bool:
            if f"Bearer {stored.access_token}" != failed_header:
                return False
            if stored.after_401:
                self._report_refused_again(stored)
                return False
            return True

        return self._refresh_under_lock(still_the_failed_one, for_401=True)

    def accepted(self, header: str) -> None:
        """Gong answered a request sent with ``header`` with something other than 401.

        The transports call it only while :attr:`unproven` is set (a token obtained for a 401
        is in use): the first accepted answer clears the token's ``after_401`` mark in the
        store, so a later 401 for it (the customer uninstalled the app an hour on) refreshes
        as any 401 does.
        """
        unproven = self.unproven
        if unproven is None or unproven.header != header:
            return
        self.unproven = None  # one caller does the write; the others go on at once
        if not self._thread_lock.acquire(timeout=self._wait_bound()):
            return  # a refresh is running; the mark stays, which only costs caution
        try:
            proven = self._clear_after_401(unproven.token)
        except TokenStoreError as error:
            log.warning(
                "customer %s: could not record that Gong accepted the new token: %s",
                self.customer,
                error,
            )
            return
        finally:
            self._thread_lock.release()
        if proven is not None and self.current is unproven:
            self._adopt(proven)

    def _clear_after_401(self, accepted: Token) -> Token | None:
        with self.store.lock(self.customer, lease=self.lock_lease, timeout=self._wait_bound()):
            stored = self.store.get(self.customer)
            if stored is None or not stored.after_401 or not _same_grant(stored, accepted):
                return None  # refreshed or re-authorized since: nothing of ours to clear
            proven = replace(stored, after_401=False)
            self.store.put(self.customer, proven)
            return proven

    def _report_refused_again(self, stored: Token) -> None:
        if self._refused_again_reported == stored.access_fingerprint:
            return
        self._refused_again_reported = stored.access_fingerprint
        log.warning(
            "customer %s: Gong answered 401 again for the token a 401 made us fetch (access "
            "sha256:%s), before ever accepting it; not refreshing again for a 401 (the 401 is "
            "handed back). Gong refuses this customer for another reason than the token's age",
            self.customer,
            stored.access_fingerprint,
        )

    def missing_scope(self, body: bytes | str) -> str | None:
        """The scope a 401 body says the app lacks, or None for any other 401.

        Logged once per customer and scope at WARNING: the fix is in the integration's
        scopes (and the customer's authorization), not in a new token.
        """
        try:
            errors = json.loads(body).get("errors")
        except (ValueError, AttributeError, RecursionError):
            return None
        if not isinstance(errors, list):
            return None
        for error in errors:
            found = (
                re.search(_MISSING_SCOPE, error, re.IGNORECASE) if isinstance(error, str) else None
            )
            if found is not None:
                scope = found.group(1)
                if scope not in self._scopes_reported:
                    self._scopes_reported.add(scope)
                    log.warning(
                        "customer %s: Gong refused a call for lack of the scope %s (401): add "
                        "it to the integration's scopes and have the customer authorize again; "
                        "not refreshing the token for it",
                        self.customer,
                        scope,
                    )
                return scope
        return None

    def check_origin(self, url: str, current: Current) -> None:
        """Raise OriginMismatch unless ``url`` is on the customer's API origin.

        The slow path of the origin check: transports first test ``current.prefix``; equal
        origins spelled differently (upper case, an explicit default port) pass here. A
        token whose base URL the client does not trust is refused whatever the URL.
        ``moved_to`` on the error is the customer's current base URL, for a transport that
        built the URL from an older one (a refresh moved the customer meanwhile).
        """
        if current.refusal is not None:
            raise OriginMismatch(current.refusal)
        origin = origin_in_message(url)
        if origin != current.origin:
            raise OriginMismatch(
                f"refusing to send the token of customer {self.customer!r} to {origin}: "
                f"its Gong API origin is {current.origin}",
                moved_to=current.token.api_base_url,
            )

    def effective_leeway(self, token: Token) -> float:
        """``leeway``, but never more than half the token's lifetime.

        A leeway as long as the lifetime would make every new token look stale at once and
        refresh in a loop (``validity_duration=60`` with the default leeway, for instance).
        """
        return min(self.leeway, max(token.lifetime, 0.0) / 2)

    # -- the stale path ------------------------------------------------------------------

    def _adopt(self, token: Token, status: CustomerStatus | None = None) -> Current:
        """Make ``token`` the one in use, judged against this client's trust."""
        reason = untrusted_reason(token.api_base_url, self.client.trusted_api_origins)
        refusal = None
        if reason is not None:
            refusal = (
                f"refusing to send the token of customer {self.customer!r}: its api_base_url "
                f"{reason}; if Gong really moved the customer there, add that origin to "
                "trusted_api_origins (the token is kept: no new authorization is needed)"
            )
        elif status is not None and status.state == UNTRUSTED_ORIGIN:
            self._record(None)  # trusted now: the configuration was fixed
        try:
            origin = origin_of(token.api_base_url)
        except ValueError:
            origin = "invalid"
        refresh_at = token.expires_at - self.effective_leeway(token)
        if token is self._unsaved or unsafe_in_header(token.access_token):
            refresh_at = -math.inf  # every call takes the stale path (to retry the write)
        current = Current(
            token=token,
            header=f"Bearer {token.access_token}",
            refresh_at=refresh_at,
            origin=origin,
            # A refused token matches no URL, so the hot path falls through to check_origin.
            prefix=origin + "/" if refusal is None else "\x00",
            refusal=refusal,
        )
        self.current = current
        self.unproven = current if token.after_401 else None
        return current

    def _read(self) -> tuple[Token, CustomerStatus]:
        self.store.identity_seen()  # claimed on first use, one round trip per store object
        token, status = self.store.get_with_status(self.customer)
        if token is None:
            return self._put_back_after_reset(), ACTIVE_STATUS
        self._note_skew(token)
        return token, status

    def _note_skew(self, token: Token) -> None:
        """A stored issue time in this worker's future: the worker that received the token
        runs ahead of this one. Its age is unknown here (``Token.age``); logged once."""
        if _skew_reported.is_set():
            return
        ahead = token.issued_at - self.clock()
        if ahead > _SKEW_REPORTED_BEYOND:
            _skew_reported.set()
            log.warning(
                "customer %s: the stored token was issued %.0fs in this worker's future: the "
                "clocks of the workers sharing the store disagree (this one runs behind the "
                "one that refreshed, or it runs ahead); token ages are treated as unknown "
                "until they agree. Reported once per process",
                self.customer,
                ahead,
            )

    def _put_back_after_reset(self) -> Token:
        """The customer is missing: TokenNotFound, unless the store was emptied or replaced
        (its identity is gone) and this worker holds the pair, which goes back in.

        A customer deleted on purpose leaves the identity intact and is never brought back.
        """
        held = self._unsaved or (self.current.token if self.current is not None else None)
        if held is None or not self.store.was_reset():
            raise TokenNotFound(self.customer)
        restored = self.store.restore(self.customer, held)
        self.store.reclaim_identity()
        self.store.record_reset(
            StoreReset(
                time.time(),
                f"the store was emptied or replaced; customer {self.customer} put back from "
                f"the memory of process {os.getpid()}",
            )
        )
        log.error(
            "customer %s: the token store %s was emptied or replaced (its identity record is "
            "gone); %s the pair this process held (refresh sha256:%s)",
            self.customer,
            self.store.location,
            "put back" if restored else "another worker already put back",
            fingerprint(held.refresh_token),
        )
        if held is self._unsaved:
            self._unsaved = self._unsaved_from = None
        again = self.store.get(self.customer)
        if again is None:
            raise TokenNotFound(self.customer)
        return again

    def _is_stale(self, token: Token) -> bool:
        return self.clock() >= token.expires_at - self.effective_leeway(token)

    def _stop_if_revoked(self, status: CustomerStatus) -> None:
        """After Gong's invalid_grant, nobody asks Gong again until a new token is put."""
        if status.state == REAUTHORIZATION_REQUIRED:
            raise ReauthorizationRequired(self.customer, status.reason)

    def _record(self, state: str | None, reason: str | None = None) -> None:
        try:
            if state is None:
                self.store.set_status(self.customer, "active")
            else:
                self.store.set_status(self.customer, state, reason=reason)
        except TokenStoreError as error:
            log.warning("customer %s: could not record its status: %s", self.customer, error)

    def _wait_bound(self) -> float:
        if self.lock_timeout is not None:
            return self.lock_timeout
        return max(self.lock_lease, DEFAULT_LOCK_WAIT)

    def _refresh_under_lock(
        self, needs_refresh: Callable[[Token], bool], *, for_401: bool = False
    ) -> Current:
        """Refresh if ``needs_refresh(stored)`` still holds under both locks; else adopt.

        ``lock_timeout`` bounds the whole wait: for this process's lock, then the store's. A
        customer recorded as needing re-authorization raises at once, whatever its token's age:
        its access token is as dead as its refresh token, and nothing more is sent with it.
        ``for_401``: the new token is marked as obtained for a 401 (``Token.after_401``).
        """
        try:
            return self._refresh_or_adopt(needs_refresh, for_401=for_401)
        except ReauthorizationRequired:
            self.current = self.unproven = None  # the hot path must not send it again
            raise

    def _refresh_or_adopt(
        self, needs_refresh: Callable[[Token], bool], *, for_401: bool
    ) -> Current:
        bound = self._wait_bound()
        started = time.monotonic()
        if not self._thread_lock.acquire(timeout=bound):
            raise TokenStoreError(
                f"could not get the refresh lock of customer {self.customer!r} in {bound:g}s "
                "(in this process); another thread holds it"
            )
        try:
            if self._unsaved is not None:
                kept = self._write_unsaved()
                if kept is not None:
                    return kept
            stored, status = self._read()
            self._stop_if_revoked(status)
            if not needs_refresh(stored):
                return self._adopt(stored, status)
            # A secret Gong refused is paused for every worker: raise before any lock.
            secret_pause.raise_if_paused(self.store, self.client)
            left = max(0.0, bound - (time.monotonic() - started))
            with self.store.lock(self.customer, lease=self.lock_lease, timeout=left) as lease:
                stored, status = self._read()
                self._stop_if_revoked(status)
                if not needs_refresh(stored):
                    refresh_skipped(self.customer)  # another process refreshed it meanwhile
                    return self._adopt(stored, status)
                with refreshing(self.customer):
                    token = self._refresh(stored, lease, for_401=for_401)
                return self._adopt(token)
        finally:
            self._thread_lock.release()

    def _write_unsaved(self) -> Current | None:
        """Write the token a failed store write left in memory; while the store still fails,
        keep using it (None once written or superseded: the caller reads the store as usual).

        Written only while the intent for the token it was refreshed from stands
        (:meth:`_settle`): another process may have refreshed past it since (our token is
        then spent), or the customer may have been authorized again or deleted.
        """
        token = self._unsaved
        assert token is not None
        try:
            self._settle_unsaved()
        except TokenStoreError as error:
            if self._is_stale(token):
                raise
            log.warning(
                "customer %s: the new token is still not stored (%s); using it from memory",
                self.customer,
                error,
            )
            return self._adopt(token)
        return None

    def retry_unsaved(self) -> bool:
        """One attempt by the background writer (tokens/unsaved.py); True when nothing is
        left to write. Skips a round while a call of this process holds the customer."""
        if self._unsaved is None:
            return True
        if not self._thread_lock.acquire(timeout=0.2):
            return False
        try:
            if self._unsaved is None:
                return True
            try:
                written = self._settle_unsaved()
            except TokenStoreError:
                return False
            if written is not None:
                self._adopt(written)
            elif self.current is not None and self.current.refresh_at == -math.inf:
                self.current = None  # dropped: the next call reads the store
            return True
        finally:
            self._thread_lock.release()

    def _settle_unsaved(self) -> Token | None:
        """One write of the unsaved pair; the pair if it is stored now, None if dropped."""
        token, spent = self._unsaved, self._unsaved_from
        assert token is not None
        assert spent is not None
        written = self._settle(token, spent)
        self._unsaved = self._unsaved_from = None
        if written:
            log.info("customer %s: the token kept in memory is settled in the store", self.customer)
            return token
        return None

    def _settle(self, token: Token, spent: Token) -> bool:
        """Store ``token`` over the intent for ``spent`` (one round trip). False if the store
        moved on: refreshed elsewhere, authorized again or deleted (logged; the pair is
        dropped). A store that was emptied or replaced meanwhile gets the pair back."""
        if self.store.settle(self.customer, token, spent=fingerprint(spent.refresh_token)):
            return True
        stored = self.store.get(self.customer)
        if _same_grant(stored, token):
            return True  # an earlier attempt landed, its answer lost
        if stored is None and self.store.was_reset():
            self._unsaved, self._unsaved_from = token, spent
            self._put_back_after_reset()
            return True
        log.warning(
            "customer %s: the store moved on from the token this one was refreshed from "
            "(refreshed elsewhere, authorized again or deleted); dropping the token kept in "
            "memory",
            self.customer,
        )
        return False

    @staticmethod
    def _write_time(lease: Lease) -> float:
        """How long a write may be retried: until shortly before the lease ends."""
        margin = min(2.0, lease.duration / 4)
        return max(0.0, lease.remaining() - margin)

    def _refresh(self, stored: Token, lease: Lease, *, for_401: bool = False) -> Token:
        settled_elsewhere, standing = self._await_in_flight(stored, lease)
        if settled_elsewhere is not None:
            refresh_skipped(self.customer)  # the other worker's refresh, not a token call of ours
            return settled_elsewhere
        opened = self._open_intent(stored, lease, standing)
        log.info(
            "refreshing customer %s (access sha256:%s, expires %s)",
            self.customer,
            stored.access_fingerprint,
            stored.expires.isoformat(),
        )
        with lease.renewed():
            try:
                answer = self.client.refresh_answer(stored, customer=self.customer)
            except ClientCredentialsRejected as refused:
                # The app's secret, not the customer's grant: no status recorded.
                self._close_intent(lease, opened=opened)  # nothing granted: token still good
                secret_pause.share(self.store, self.client, refused)
                raise
            except ReauthorizationRequired as rejected:
                self._refuse_if_in_flight_elsewhere(stored, lease)
                # The intent stays: it names the refresh token Gong refused as spent, so a
                # worker that spent it and still holds the successor (its intent's deadline
                # passed during a store outage) can settle that pair late, which also clears
                # the status recorded below. A put or a delete clears it as usual.
                again, _ = self._read()
                if not _same_grant(
                    again, stored
                ):  # any change: someone refreshed (or re-authorized)
                    log.info("customer %s was refreshed elsewhere meanwhile", self.customer)
                    refresh_skipped(self.customer)
                    return again
                log.warning(
                    "customer %s must authorize the app again: Gong rejected refresh token "
                    "sha256:%s",
                    self.customer,
                    fingerprint(stored.refresh_token),
                )
                self._record(REAUTHORIZATION_REQUIRED, rejected.description or "invalid_grant")
                stored_meanwhile = self._stored_since_rejection(stored)
                if stored_meanwhile is not None:
                    return stored_meanwhile
                raise
            except BaseException:
                self._close_intent(lease, opened=opened)  # nothing granted: token still good
                raise
            token = replace(answer.token, after_401=True) if for_401 else answer.token
            # Persisted before anything judges or uses it, and before the renewer thread is
            # joined (a renewal in flight would otherwise sit inside the kill -9 window).
            self._persist(token, stored, lease)
        if answer.untrusted_origin:
            self._record(UNTRUSTED_ORIGIN, str(answer.problem))
        elif answer.problem is not None:
            raise answer.problem
        return token

    def _stored_since_rejection(self, rejected: Token) -> Token | None:
        """A token another process stored between our re-read and our status write, with the
        status cleared again; None if the rejected token is still the stored one.

        ``put`` clears the status, so only a write that landed before ours can be hidden by
        it: reading once more after the status write sees every such write.
        """
        try:
            again, _ = self._read()
        except (TokenStoreError, TokenNotFound):
            return None
        if _same_grant(again, rejected):
            return None
        log.info("customer %s was stored anew while Gong rejected the old token", self.customer)
        self._record(None)
        return again

    def _persist(self, token: Token, spent: Token, lease: Lease) -> None:
        # Held before the write starts: whatever interrupts the write (a store error, or a
        # KeyboardInterrupt, gevent's Timeout, a signal handler's SystemExit), the pair is
        # here for the next call and the background writer. The write settles the intent in
        # the same round trip (no lease renewal first: the intent, not the lease, keeps others
        # from presenting the spent token), so a kill -9 between Gong's answer and the store
        # taking the pair has one round trip to land in.
        self._unsaved, self._unsaved_from = token, spent
        try:
            written = write_with_retries(
                lambda: self._settle(token, spent),
                self.customer,
                deadline=self._write_time(lease),
            )
        except TokenStoreError:
            self._adopt(token)
            WRITER.add(self)
            log.error(
                "customer %s: Gong issued a new token and the store did not take it; it is "
                "kept in this process and written in the background as soon as the store "
                "answers",
                self.customer,
            )
            raise
        except BaseException:  # interrupted mid-write: the pair is kept, and written anyway
            WRITER.add(self)
            raise
        if self._unsaved is token:
            self._unsaved = self._unsaved_from = None
        if not written:
            raise TokenStoreError(
                f"customer {self.customer!r}: the store moved on while Gong refreshed (the "
                "customer was authorized again or deleted); the new token was not stored"
            )

    # -- refresh intents (stores/intents.py) ---------------------------------------------

    def _open_intent(self, stored: Token, lease: Lease, standing: RefreshIntent | None) -> bool:
        """Record our intent to spend ``stored``'s refresh token; False when ``standing`` (the
        intent the store holds) already names that token for another worker. Its deadline has
        passed (we waited for it otherwise), but that worker may still hold the successor,
        unsaved: its claim is kept, since ours would replace it and, closed on a failure,
        erase what lets that worker's late settle land. Our own pair settles against it all
        the same (a settle matches the token spent, not the owner)."""
        spent = fingerprint(stored.refresh_token)
        if standing is not None and standing.spent == spent and standing.owner != lease.owner:
            return False
        intent = RefreshIntent(lease.owner, spent, time.time() + self.intent_hold)
        if not self.store.open_intent(self.customer, intent):
            raise TokenNotFound(self.customer)  # deleted since our read under the lock
        return True

    def _close_intent(self, lease: Lease, *, opened: bool = True) -> None:
        if not opened:
            return  # another worker's claim, kept (see _open_intent)
        try:
            self.store.close_intent(self.customer, lease.owner)
        except TokenStoreError as error:
            log.warning("customer %s: could not clear the refresh intent: %s", self.customer, error)

    def _open_intent_elsewhere(
        self, stored: Token, lease: Lease, intent: RefreshIntent | None
    ) -> RefreshIntent | None:
        """``intent`` if it is another worker's open intent for ``stored``'s refresh token."""
        if (
            intent is None
            or intent.owner == lease.owner
            or intent.spent != fingerprint(stored.refresh_token)
            or not intent.is_open(time.time())
        ):
            return None
        return intent

    def _await_in_flight(
        self, stored: Token, lease: Lease
    ) -> tuple[Token | None, RefreshIntent | None]:
        """Before presenting ``stored``'s refresh token: if another worker's open intent says
        it is being spent, wait for that worker's write and return its pair; no pair to go on
        (no such intent, the owner gave up, or its deadline passed), with the intent the store
        then holds. TokenStoreError when the wait bound runs out first: never present a token
        another worker may have spent."""
        standing = self.store.intent(self.customer)
        intent = self._open_intent_elsewhere(stored, lease, standing)
        if intent is None:
            return None, standing
        log.warning(
            "customer %s: another worker's refresh of refresh token sha256:%s is in flight and "
            "its new pair is not stored yet; waiting for it (its intent ends in %.0fs)",
            self.customer,
            intent.spent,
            intent.deadline - time.time(),
        )
        ends = time.monotonic() + self._wait_bound()
        delay = _INTENT_POLL
        with lease.renewed():
            while True:
                again = self.store.get(self.customer)
                if again is None or not _same_grant(again, stored):
                    log.info("customer %s: the other worker's pair arrived", self.customer)
                    return (again if again is not None else self._read()[0]), None
                standing = self.store.intent(self.customer)
                if self._open_intent_elsewhere(stored, lease, standing) is None:
                    log.warning(
                        "customer %s: the other worker's refresh intent ended with no new "
                        "pair stored; refreshing with the stored token",
                        self.customer,
                    )
                    return None, standing
                if time.monotonic() >= ends:
                    raise TokenStoreError(
                        f"customer {self.customer!r}: another worker is refreshing it and its "
                        "new token is not stored yet; the spent refresh token is not presented "
                        "again (try again shortly)"
                    )
                time.sleep(delay)
                delay = min(delay * 2, _INTENT_POLL_LONGEST)

    def _refuse_if_in_flight_elsewhere(self, stored: Token, lease: Lease) -> None:
        """Gong refused ``stored``'s refresh token while another worker's intent for it is
        open: that worker spent it and its pair is on the way, so the customer is not
        revoked. TokenStoreError instead of ReauthorizationRequired; nothing recorded."""
        try:
            intent = self._open_intent_elsewhere(stored, lease, self.store.intent(self.customer))
        except TokenStoreError:
            return
        if intent is not None:
            raise TokenStoreError(
                f"customer {self.customer!r}: Gong refused a refresh token another worker is "
                "spending; its new pair is expected in the store (not recorded as needing "
                "re-authorization)"
            )
