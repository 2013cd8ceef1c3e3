"""load_config: validated, resolved, typed, and never showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from gong_authlib import ConfigError, load_config
from tests.helpers import CONFIG_DATA, integration_file

ENV = {
    "GONG_CLIENT_ID": "client-123",
    "GONG_CLIENT_SECRET": "s3cr3t-value-never-shown",
    "GONG_AUTHLIB_KEY": "k" * 44,
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    integration_file(tmp_path)
    return tmp_path


def test_load_config_builds_the_typed_model(config_dir: Path) -> None:
    config = load_config(config_dir / "gong-integration.yaml", environ=ENV)
    assert config.integration.name == "Acme Call Notes"
    assert config.integration.scopes == ("api:calls:read:basic", "api:users:read")
    assert config.integration.logos.small == config_dir / "assets" / "logo-small.png"
    assert config.integration.iframe is not None
    assert config.integration.iframe.allowed_origins == ("https://app.acme.example",)
    assert config.oauth is not None
    assert config.oauth.client_id == "client-123"
    assert config.oauth.client_secret.reveal() == ENV["GONG_CLIENT_SECRET"]
    assert config.oauth.validity_duration == 86400
    assert config.oauth.token_url == "https://app.gong.io/oauth2/generate-customer-token"


def test_relative_sqlite_path_is_relative_to_the_file(config_dir: Path) -> None:
    config = load_config(config_dir / "gong-integration.yaml", environ=ENV)
    assert config.token_store is not None
    assert config.token_store.url.reveal() == f"sqlite:///{config_dir.resolve()}/tokens.db"
    assert [k.reveal() for k in config.token_store.encryption_keys] == ["k" * 44]


@pytest.mark.parametrize("keys", ["new,old", "new, old", " new old\n", "new,,old,"])
def test_one_variable_holds_several_keys_newest_first(config_dir: Path, keys: str) -> None:
    # Dropping the old key after a rotation edits one variable, not two list entries.
    config = load_config(
        config_dir / "gong-integration.yaml", environ={**ENV, "GONG_AUTHLIB_KEY": keys}
    )
    assert config.token_store is not None
    assert [k.reveal() for k in config.token_store.encryption_keys] == ["new", "old"]


def test_secrets_never_show_in_repr_or_str(config_dir: Path) -> None:
    config = load_config(config_dir / "gong-integration.yaml", environ=ENV)
    for text in (repr(config), str(config), f"{config.oauth}"):
        assert ENV["GONG_CLIENT_SECRET"] not in text
        assert ENV["GONG_AUTHLIB_KEY"] not in text


def test_unset_variable_is_named_with_its_position(config_dir: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "GONG_CLIENT_SECRET"}
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir / "gong-integration.yaml", environ=env)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "env-unset"
    assert "GONG_CLIENT_SECRET" in diagnostic.message
    assert (diagnostic.line, diagnostic.path) == (36, "oauth.client_secret")


def test_invalid_file_raises_config_error_with_every_diagnostic() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIG_DATA / "bad" / "unknown-key.yaml", environ=ENV)
    assert {d.code for d in caught.value.diagnostics} == {"unknown-key", "missing-key"}
    assert "and 1 more" in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")
