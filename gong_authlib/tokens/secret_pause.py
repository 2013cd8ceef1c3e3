"""The client-secret back-off, kept in the token store so that every worker honours it.

After Gong refuses the app's secret (``invalid_client``: a rotation whose grace period ended, a
typo), the OAuth client pauses that secret in its own process
(:mod:`gong_authlib.oauth.secret_backoff`). A fleet shares a store, not a process: without
more, every worker and every newly started one would spend its own token call to learn the
same thing. So the pause is also written to the store, as a pause of the store's rate budget
(:meth:`~gong_authlib.stores.contracts.RateBudget.rate_pause`) under a key of its own. Every
backend keeps that contract atomically in the shared backend (an SQLite transaction, a Redis
script, one PostgreSQL statement, a lock for the in-memory store), a longer pause already
recorded stands, and it needs no table of its own.

The key is a digest of the token URL, the client ID and the secret's fingerprint: a fixed secret
has another key, so it is tried at once. Times are the OAuth client's clock, as for the
in-process pause. A store that cannot be read or written costs a token call, never a request:
the in-process pause still holds.
"""

from __future__ import annotations

import hashlib

from gong_authlib.errors import ClientCredentialsRejected, TokenStoreError
from gong_authlib.logs import get_logger
from gong_authlib.oauth import secret_backoff
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.stores.contracts import RateBudget

log = get_logger("auth")

_KEY_PREFIX = "invalid_client:"


def store_key(client: GongOAuthClient) -> str:
    """The rate-budget key the pause of ``client``'s secret is kept under."""
    digest = hashlib.sha256("\n".join(client.credentials_key).encode()).hexdigest()
    return _KEY_PREFIX + digest[:32]


def paused_for(store: RateBudget, client: GongOAuthClient) -> float:
    """Seconds left before any worker may call the token endpoint with ``client``'s secret
    (a read only: ``tokens check`` may run with a store it cannot write)."""
    return store.rate_paused_for(store_key(client), now=client.clock())


def _left(store: RateBudget, client: GongOAuthClient, now: float) -> float:
    """The pause left at ``now``, on this worker's clock.

    A pause is written in its writer's clock; the rate budget reads one written by a clock
    ahead of ours as moved back onto ours, but only a write keeps that move. Nobody reserves
    calls under this key, so without one a pause from a worker a day ahead would read "30 s
    left" for a day. A pause found is therefore re-anchored once (a zero pause, which keeps
    the longer one) before it is read again: it then ends at most its length after this
    worker first saw it.
    """
    key = store_key(client)
    left = store.rate_paused_for(key, now=now)
    if left <= 0:
        return left
    try:
        store.rate_pause(key, 0.0, now=now)
    except TokenStoreError as error:  # the pause as read still holds this worker back
        log.warning("could not re-anchor the client-secret pause in the store: %s", error)
        return left
    return store.rate_paused_for(key, now=now)


def raise_if_paused(store: RateBudget, client: GongOAuthClient) -> None:
    """Raise ``ClientCredentialsRejected`` at once while ``client``'s secret is paused, in
    this process (no I/O) or in the store (another worker was refused)."""
    now = client.clock()
    until = secret_backoff.paused_until(client.credentials_key, now)
    if until is None:
        try:
            left = _left(store, client, now)
        except TokenStoreError as error:
            log.warning("could not read the client-secret pause from the store: %s", error)
            return
        if left <= 0:
            return
        until = now + left
        secret_backoff.adopt(client.credentials_key, now, until)
    raise ClientCredentialsRejected(
        client.client_id,
        client.secret_fingerprint,
        description="refused recently; not asked again until the pause ends",
        retry_at=until,
    )


def share(store: RateBudget, client: GongOAuthClient, refusal: ClientCredentialsRejected) -> None:
    """Keep ``refusal``'s pause in the store, for every worker sharing it."""
    if refusal.retry_at is None:
        return
    now = client.clock()
    try:
        store.rate_pause(store_key(client), refusal.retry_at - now, now=now)
    except TokenStoreError as error:
        log.warning("could not keep the client-secret pause in the store: %s", error)
