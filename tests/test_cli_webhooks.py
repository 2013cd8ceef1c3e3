"""`gong-authlib webhooks`: keys pasted as Gong shows them, kept in the store, and a captured
FakeGong delivery verified from the shell, each as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.helpers import REPO_ROOT, integration_file

URL = "https://app.example.com/gong/webhook/acme"


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gong_authlib", "webhooks", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "NO_COLOR": ""},
        timeout=60,
        check=False,
    )


def test_keys_are_added_listed_and_removed_and_a_delivery_is_verified(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'tokens.db'}"
    where = ("--customer", "acme", "--store", store_url, "--config", str(tmp_path / "none.yaml"))
    with FakeGong() as gong:
        key = gong.webhook_public_key("acme")
        other = gong.webhook_public_key("globex")
        delivery = gong.sign_webhook(URL, customer="acme")
    key_file = tmp_path / "acme.key"
    key_file.write_text(key + "\n")  # as pasted from Gong's UI, newline and all

    added = cli("add-key", *where, "--key-file", str(key_file))
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added key sha256:")
    assert "RSA 2048" in added.stdout
    again = cli("add-key", *where, stdin=key)  # the same key, pasted on stdin
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert cli("add-key", *where, stdin=other).returncode == 0

    listed = cli("list-keys", *where[2:], "--format", "json")  # every customer's
    assert listed.returncode == 0, listed.stderr
    keys = json.loads(listed.stdout)["keys"]
    assert [(k["customer"], k["public_key"]) for k in keys] == [("acme", key), ("acme", other)]
    with SQLiteTokenStore(tmp_path / "tokens.db") as store:  # what the web helpers will read
        assert [k.fingerprint for k in store.webhook_keys("acme")] == [
            k["fingerprint"] for k in keys
        ]

    body = tmp_path / "body.json"
    body.write_bytes(delivery.body)
    authorization = delivery.headers["Authorization"]
    checked = ("--url", URL, "--body-file", str(body), "--authorization", authorization)
    valid = cli("verify", *where, *checked)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.startswith("valid: call ")
    assert keys[0]["fingerprint"] in valid.stdout

    body.write_bytes(delivery.body.replace(b"Discovery", b"Discoverx"))
    key_file.write_text(key)
    tampered = cli(
        "verify", "--public-key-file", str(key_file), *checked, "--config", str(key_file)
    )
    assert tampered.returncode == 1
    assert tampered.stdout == "rejected (body_mismatch): the body is not the one that was signed\n"
    assert authorization[:20] not in tampered.stdout + tampered.stderr

    removed = cli("remove-key", *where, "--fingerprint", keys[0]["fingerprint"])
    assert removed.returncode == 0, removed.stderr
    gone = cli("remove-key", *where, "--fingerprint", keys[0]["fingerprint"])
    assert gone.returncode == 1
    assert "has no key sha256:" in gone.stderr
    body.write_bytes(delivery.body)
    # The key that signed it was removed: the customer's remaining key does not verify it.
    refused = cli("verify", *where, *checked)
    assert refused.returncode == 1
    assert refused.stdout.startswith("rejected (bad_signature)")


def test_bad_input_is_a_clear_message_with_its_exit_code(tmp_path: Path) -> None:
    where = ("--customer", "acme", "--store", f"sqlite:///{tmp_path / 't.db'}")
    not_a_key = cli("add-key", *where, "--config", "missing.yaml", stdin="c2VjcmV0\n")
    assert not_a_key.returncode == 1
    assert "not a public key" in not_a_key.stderr
    assert "Traceback" not in not_a_key.stderr
    usage = cli("verify", "--customer", "acme", "--body-file", "-", "--authorization", "x")
    assert usage.returncode == 2
    assert "--url" in usage.stderr


def test_keys_need_no_client_secret(tmp_path: Path) -> None:
    # Keys live in the store the file names; nothing here calls Gong, so a machine without the
    # OAuth client's variables (a receiver's host) can still manage them.
    config = integration_file(tmp_path)  # oauth from ${env:GONG_CLIENT_ID/SECRET}, unset here
    with FakeGong() as gong:
        key = gong.webhook_public_key("acme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONG_CLIENT_")}
    env["GONG_AUTHLIB_KEY"] = Fernet.generate_key().decode()  # the store's own key is needed
    where = ("--customer", "acme", "--config", str(config))
    for args, stdin in ((("add-key", *where), key), (("list-keys", "--config", str(config)), "")):
        done = subprocess.run(
            [sys.executable, "-m", "gong_authlib", "webhooks", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "acme" in done.stdout
