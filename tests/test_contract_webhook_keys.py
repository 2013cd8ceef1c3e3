"""Customers' webhook public keys: every store keeps several per customer, adds each once,
lists and removes them by fingerprint, and shares them with every process on the backend."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gong_authlib.stores import SQLiteTokenStore, TokenStore
from gong_authlib.stores.webhook_keys import KeyProblem, WebhookKey
from tests.stores import STORE_KINDS, make_store_and_spec, open_spec
from tests.test_contract_tokens import make_token


@pytest.fixture(scope="module")
def bare_keys() -> list[str]:
    """Three public keys as Gong's UI shows them (bare base64 DER)."""
    keys = []
    for _ in range(3):
        public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys.append(base64.b64encode(der).decode())
    return keys


@pytest.fixture(params=STORE_KINDS)
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TokenStore, object]]:
    store, spec = make_store_and_spec(request.param, request, tmp_path)
    with store:
        yield store, spec


def as_pem(bare: str) -> str:
    body = "\n".join(bare[i : i + 64] for i in range(0, len(bare), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


def test_keys_are_added_once_listed_oldest_first_and_removed(
    opened: tuple[TokenStore, object], bare_keys: list[str]
) -> None:
    store, spec = opened
    first, second, other = bare_keys
    assert store.webhook_keys("acme") == []
    added = store.add_webhook_key("acme", first, added_at=1000.0)
    assert added == WebhookKey.parse(first, added_at=1000.0)
    store.add_webhook_key("acme", second, added_at=2000.0)
    store.add_webhook_key("globex", other, added_at=1500.0)
    # The same key pasted again, as PEM this time: one key, its first date kept.
    again = store.add_webhook_key("acme", as_pem(first), added_at=3000.0)
    assert again == added
    assert [k.public_key for k in store.webhook_keys("acme")] == [first, second]
    assert [k.added_at for k in store.webhook_keys("acme")] == [1000.0, 2000.0]
    assert [k.public_key for k in store.webhook_keys("globex")] == [other]

    # A token's delete is not the keys'.
    store.put("acme", make_token())
    assert store.delete("acme")
    assert len(store.webhook_keys("acme")) == 2

    if spec is not None and not store._codec.encrypted:  # another process's view
        with open_spec(spec) as elsewhere:  # type: ignore[arg-type]
            assert elsewhere.webhook_keys("acme") == store.webhook_keys("acme")

    typed = added.fingerprint.upper().replace("SHA256:", "sha256:")
    assert store.remove_webhook_key("acme", typed)
    assert not store.remove_webhook_key("acme", added.fingerprint)
    assert not store.remove_webhook_key("initech", added.fingerprint)
    assert [k.public_key for k in store.webhook_keys("acme")] == [second]
    assert store.remove_webhook_key("acme", added.fingerprint.removeprefix("sha256:")) is False
    assert [k.public_key for k in store.webhook_keys("globex")] == [other]


def test_what_is_not_a_key_or_a_fingerprint_is_refused(
    opened: tuple[TokenStore, object],
) -> None:
    store, _ = opened
    with pytest.raises(KeyProblem, match="not a public key"):
        store.add_webhook_key("acme", "bm90IGEga2V5")
    with pytest.raises(KeyProblem, match="fingerprint"):
        store.remove_webhook_key("acme", "abc")
    with pytest.raises(ValueError, match="control characters"):
        store.webhook_keys("ac\x1bme")
    assert store.webhook_keys("acme") == []


def test_keys_are_resealed_only_where_rows_still_are(
    opened: tuple[TokenStore, object], bare_keys: list[str]
) -> None:
    store, _ = opened
    first, second, other = bare_keys
    store.add_webhook_key("acme", first, added_at=1.0)
    store.add_webhook_key("acme", second, added_at=2.0)
    store.add_webhook_key("globex", other, added_at=3.0)
    assert store.webhook_key_customers() == ["acme", "globex"]
    before = store.webhook_keys("acme")
    assert store.reseal_webhook_keys() == 3
    assert store.webhook_keys("acme") == before  # dates and keys kept
    gone = before[0].fingerprint
    assert store.remove_webhook_key("acme", gone)
    assert not store._reseal_webhook_key("acme", gone, "anything")  # never re-creates a row
    assert [k.fingerprint for k in store.webhook_keys("acme")] == [before[1].fingerprint]


def test_in_an_encrypted_store_a_planted_or_moved_key_is_ignored(
    opened: tuple[TokenStore, object], bare_keys: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    store, _ = opened
    mine, planted, _ = bare_keys
    key = store.add_webhook_key("acme", mine, added_at=1.0)
    rows = {fingerprint: stored for fingerprint, stored, _ in store._webhook_key_rows("acme")}
    encrypted = store._codec.encrypted
    assert (rows[key.fingerprint] == mine) is not encrypted  # sealed only with keys
    # Someone who can write the store, without its key: a key of theirs for acme, and
    # acme's own row copied to globex.
    forged = WebhookKey.parse(planted)
    store._put_webhook_key("acme", forged.fingerprint, forged.public_key, 2.0)
    store._put_webhook_key("globex", key.fingerprint, rows[key.fingerprint], 3.0)
    with caplog.at_level("WARNING", logger="gong_authlib"):
        acme = [k.public_key for k in store.webhook_keys("acme")]
        globex = [k.public_key for k in store.webhook_keys("globex")]
    if encrypted:
        assert acme == [mine]
        assert globex == []
        assert "was not written by this store" in caplog.text
    else:  # a plaintext store protects nothing from its writers (README says so)
        assert acme == [mine, planted]
        assert globex == [mine]


def test_rotate_encryption_reseals_keys_for_the_new_key_alone(
    tmp_path: Path, bare_keys: list[str]
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with SQLiteTokenStore(tmp_path / "t.db", encryption_keys=[old]) as store:
        store.add_webhook_key("acme", bare_keys[0])
    with SQLiteTokenStore(tmp_path / "t.db", encryption_keys=[new, old]) as store:
        store.rotate_encryption()
    with SQLiteTokenStore(tmp_path / "t.db", encryption_keys=[new]) as store:
        assert [k.public_key for k in store.webhook_keys("acme")] == [bare_keys[0]]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_row_whose_time_is_not_a_number_is_ignored_not_crashed_on(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    bare_keys: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A row written by hand into the backend (its time column not a number) is judged like
    any row the store did not write: ignored and logged. A ValueError here would answer every
    delivery for the customer 500 instead of verifying it with the keys that are good."""
    store, _ = make_store_and_spec(kind, request, tmp_path)
    with store:
        key = store.add_webhook_key("acme", bare_keys[0], added_at=1.0)
        planted = "sha256:" + "0" * 16
        if isinstance(store, SQLiteTokenStore):
            with sqlite3.connect(store.path) as db:
                db.execute(
                    "INSERT INTO webhook_keys VALUES ('acme', ?, 'x', 'garbage')", (planted,)
                )
            db.close()
        else:
            raw: Any = store
            raw._redis.hset(raw._key("webhook-keys", "acme"), planted, "garbage")
        with caplog.at_level("WARNING", logger="gong_authlib"):
            keys = store.webhook_keys("acme")
    assert [k.fingerprint for k in keys] == [key.fingerprint]
    assert "was not written by this store" in caplog.text
