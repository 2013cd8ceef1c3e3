"""A code exchanged is a token stored: the write is retried, and a store that stays down is
a clear "connect again", for the command line as for web apps."""

from __future__ import annotations

import pytest

from gong_authlib import AuthorizationNotSaved
from gong_authlib.authorize import authorize_customer
from gong_authlib.exchange import store_new_token
from gong_authlib.testing import FakeGong
from tests.test_store_contract import make_token
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
