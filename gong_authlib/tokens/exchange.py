"""A callback's code turned into a stored token: exchanged once, then stored with retries.

Gong's authorization codes are single-use: once exchanged, the token Gong returned is the only
copy of the customer's authorization. So a store write that fails is retried with backoff, and
if every try fails the caller is told plainly that nothing was stored and the customer must
connect again (:class:`~gong_authlib.AuthorizationNotSaved`), never left guessing.

The write happens under the customer's refresh lock: a worker refreshing the customer's old
token at that moment would otherwise store its refresh *after* the new authorization and
silently replace it (new scopes lost). A refresh takes a second or so; a lock held longer is
a dead holder's lease, and the token is written without it rather than lost to a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from gong_authlib.errors import AuthorizationNotSaved, TokenStoreError
from gong_authlib.logs import get_logger

if TYPE_CHECKING:
    from gong_authlib.oauth.client import GongOAuthClient
    from gong_authlib.stores.contracts import TokenStore
    from gong_authlib.token import Token

log = get_logger("exchange")

WRITE_ATTEMPTS = 5
WRITE_FIRST_WAIT = 0.1  # then 0.2, 0.4, 0.8: about 1.5 s in all, inside one web request
WRITE_LOCK_WAIT = 10.0  # for a refresh in flight to finish; well inside a web request's time


def exchange_and_store(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    code: str,
    redirect_uri: str,
    *,
    attempts: int = WRITE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Token:
    """Exchange ``code`` and store the token under ``customer`` before returning it."""
    token = client.exchange_code(code, redirect_uri, customer=customer)
    store_new_token(store, customer, token, attempts=attempts, sleep=sleep)
    return token


def store_new_token(
    store: TokenStore,
    customer: str,
    token: Token,
    *,
    attempts: int = WRITE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    lock_wait: float = WRITE_LOCK_WAIT,
) -> None:
    """Persist a freshly exchanged token, retrying; AuthorizationNotSaved if it never lands."""
    attempts = max(1, attempts)
    wait = WRITE_FIRST_WAIT
    for attempt in range(1, attempts + 1):
        try:
            _put_after_refreshes(store, customer, token, lock_wait)
            return
        except TokenStoreError as exc:
            log.warning(
                "storing the new token of customer %s failed (attempt %d of %d): %s",
                customer,
                attempt,
                attempts,
                exc,
            )
            if attempt < attempts:
                sleep(wait)
                wait *= 2
    raise AuthorizationNotSaved(customer, store.location)


def _put_after_refreshes(store: TokenStore, customer: str, token: Token, lock_wait: float) -> None:
    """``put`` under the customer's lease (the store's only, not the in-process thread lock:
    the lease alone orders this write after a refresh in flight, here or in any process)."""
    with ExitStack() as held:
        try:
            held.enter_context(store.lock(customer, timeout=lock_wait))
        except TokenStoreError as exc:
            # A down store fails the put below too, and is retried; a lease held this long
            # is a dead holder's, and the new authorization matters more than the order.
            log.warning(
                "storing the new token of customer %s without the refresh lock: %s", customer, exc
            )
        store.put(customer, token)
