"""A code exchanged is a token stored: the write is retried, and a store that stays down is
a clear "connect again", for the command line as for web apps."""

from __future__ import annotations

import threading

import pytest

from gong_authlib import AuthorizationNotSaved, CustomerToken
from gong_authlib.loopback.authorize import authorize_customer
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from gong_authlib.tokens.exchange import exchange_and_store, store_new_token
from tests.test_contract_tokens import make_token
from tests.test_web_flow import FlakyStore

REMOTE = "https://app.acme.example/oauth/gong/callback"


def test_backoff_doubles_and_gives_up_with_connect_again() -> None:
    store = FlakyStore(failures=99)
    waits: list[float] = []
    with pytest.raises(AuthorizationNotSaved, match="nothing was stored: connect again"):
        store_new_token(store, "acme", make_token(), attempts=5, sleep=waits.append)
    assert waits == [0.1, 0.2, 0.4, 0.8]
    store.failures = 0
    assert store.get("acme") is None


def test_the_command_line_flow_retries_the_write_after_the_exchange() -> None:
    with FakeGong(redirect_uris=[REMOTE]) as gong:
        gong.add_customer("acme")
        store = FlakyStore(failures=1)
        shown: list[str] = []
        result = authorize_customer(
            gong.oauth_client(),
            store,
            "acme",
            scopes=["api:users:read"],
            redirect_uri=REMOTE,
            open_url=shown.append,
            paste=lambda: gong.approve(shown[0]),
        )
        assert store.get("acme") == result.token
        assert gong.stats.token_calls[("acme", "authorization_code")] == 1


class RefreshPausingStore(MemoryTokenStore):
    """A real memory store that holds one thread's token write until the other thread has
    either written or found the customer's lock taken: a refresh caught mid-flight."""

    def __init__(self) -> None:
        super().__init__()
        self.refresher: threading.Thread | None = None
        self.refresh_writing = threading.Event()
        self.reconnect_tried = threading.Event()

    def put(self, customer: str, token: Token) -> None:
        if threading.current_thread() is self.refresher:
            self.refresh_writing.set()
            assert self.reconnect_tried.wait(30)
        super().put(customer, token)
        if self.refresher is not None and threading.current_thread() is not self.refresher:
            self.reconnect_tried.set()

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        # A refresh writes its pair through settle (only while its intent stands).
        if threading.current_thread() is self.refresher:
            self.refresh_writing.set()
            assert self.reconnect_tried.wait(30)
        return super().settle(customer, token, spent=spent)

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        taken = super()._try_lease(customer, owner, lease)
        if not taken and self.refresher not in (None, threading.current_thread()):
            self.reconnect_tried.set()
        return taken


def test_a_reconnect_during_a_refresh_keeps_the_new_authorization() -> None:
    # An admin connects a customer again (new scopes, say) while a worker is refreshing the
    # old token: the refresh must not overwrite the new authorization once it is stored.
    with FakeGong(redirect_uris=[REMOTE]) as gong:
        gong.add_customer("acme")
        store = RefreshPausingStore()
        client = gong.oauth_client(state_store=store)
        url, _ = client.authorization_url(["api:users:read"], REMOTE, customer="acme")
        _, code = client.parse_callback(gong.approve(url), redirect_uri=REMOTE)
        store.put("acme", client.exchange_code(code, REMOTE))

        refresher = threading.Thread(target=CustomerToken(client, store, "acme").refresh)
        store.refresher = refresher
        refresher.start()
        assert store.refresh_writing.wait(30)  # the refresh holds the lock, its token in hand

        url, _ = client.authorization_url(["api:users:read"], REMOTE, customer="acme")
        _, code = client.parse_callback(gong.approve(url), redirect_uri=REMOTE)
        new = exchange_and_store(client, store, "acme", code, REMOTE)
        store.reconnect_tried.set()
        refresher.join(30)
        assert store.get("acme") == new


def test_a_lock_held_too_long_does_not_cost_the_new_authorization() -> None:
    # A holder killed mid-refresh keeps the lease until it runs out (up to two minutes): the
    # new token is written without the lock after a short wait rather than lost in a timeout.
    store = MemoryTokenStore()
    with store.lock("acme"):
        store_new_token(store, "acme", make_token(), lock_wait=0.05)
        assert store.get("acme") == make_token()
