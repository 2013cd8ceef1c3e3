"""A store keeps every contract or cannot be built: no silent per-process fallbacks.

The trap this closes: a backend written against the tokens-and-leases half of TokenStore (as
a first DynamoDB store would be) used to construct, pass mypy and every single-process test,
and keep statuses, OAuth states and the rate budget in one process's memory, so a fleet on
it asked Gong again for revoked customers and spent the rate budget once per process.
"""

from __future__ import annotations

import pytest

from gong_authlib.stores import MemoryTokenStore, TokenStore
from gong_authlib.stores.contracts import RateBudget, StateRecords, StatusRecords, TokenRecords
from gong_authlib.stores.process_local import ProcessLocalRateBudget
from gong_authlib.token import Token


class TokensAndLeasesOnly(TokenStore):
    """What a newcomer's shared backend looks like before it learns the other contracts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Token] = {}

    def get(self, customer: str) -> Token | None:
        return self.rows.get(customer)

    def put(self, customer: str, token: Token) -> None:
        self.rows[customer] = token

    def delete(self, customer: str) -> bool:
        return self.rows.pop(customer, None) is not None

    def customers(self) -> list[str]:
        return sorted(self.rows)

    @property
    def location(self) -> str:
        return "dynamodb table tokens"

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        return True

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        return True

    def _release_lease(self, customer: str, owner: str) -> None:
        pass


def test_a_backend_that_keeps_tokens_and_leases_only_cannot_be_built() -> None:
    with pytest.raises(TypeError) as raised:
        TokensAndLeasesOnly()  # type: ignore[abstract]  # mypy refuses it too
    message = str(raised.value)
    assert message.startswith("TokensAndLeasesOnly does not keep ")
    assert "customer statuses (newest_issue, set_status, status)" in message
    assert "OAuth states (_purge_states, _put_state, _take_state)" in message
    assert "the rate budget (rate_pause, rate_paused_for, rate_reserve)" in message
    assert (
        "webhook keys (_delete_webhook_key, _put_webhook_key, _reseal_webhook_key, "
        "_webhook_key_owners, _webhook_key_rows)" in message
    )
    assert "refresh intents (close_intent, intent, open_intent, settle)" in message
    assert "the store identity (claim_identity, clear_reset, record_reset" in message
    assert "tokens and leases" not in message  # it keeps those: named only what it lacks


def test_the_error_names_only_the_contracts_left_out() -> None:
    class AlmostWhole(TokensAndLeasesOnly, ProcessLocalRateBudget):
        def status(self, customer: str) -> object:  # type: ignore[override]
            raise AssertionError

        def set_status(self, customer: str, state: str, **kwargs: object) -> None:
            raise AssertionError

        def newest_issue(self, customer: str) -> float | None:
            raise AssertionError

    with pytest.raises(TypeError) as raised:
        AlmostWhole()  # type: ignore[abstract]
    named = str(raised.value).split(". A token store")[0]
    assert named.startswith(
        "AlmostWhole does not keep OAuth states (_purge_states, _put_state, _take_state); "
        "refresh intents ("
    )
    assert named.endswith(
        "; webhook keys (_delete_webhook_key, _put_webhook_key, _reseal_webhook_key, "
        "_webhook_key_owners, _webhook_key_rows)"
    )
    assert "customer statuses" not in named
    assert "rate budget" not in named


def test_the_memory_store_says_it_keeps_the_rate_budget_in_this_process() -> None:
    assert issubclass(MemoryTokenStore, ProcessLocalRateBudget)
    store = MemoryTokenStore()
    for contract in (TokenRecords, StatusRecords, StateRecords, RateBudget):
        assert isinstance(store, contract)


@pytest.mark.parametrize("backend", ["SQLiteTokenStore", "RedisTokenStore", "PostgresTokenStore"])
def test_shared_backends_keep_every_contract_in_the_backend(backend: str) -> None:
    from gong_authlib import stores

    store_class = getattr(stores, backend)
    assert not getattr(store_class, "__abstractmethods__", None)
    assert not issubclass(store_class, ProcessLocalRateBudget)
