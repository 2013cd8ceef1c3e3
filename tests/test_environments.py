"""Environments: overrides merged over the file, each merged result checked and loadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from gong_authlib import ConfigError, load_config, validate_file
from tests.helpers import GOOD_CONFIG as GOOD
from tests.helpers import integration_file, run_cli

ENVIRONMENTS = """environments:
  developer:
    integration:
      redirect_uris: [http://127.0.0.1:9999/callback]
      contacts: [dev@acme.example]
    oauth:
      client_id: ${env:GONG_DEV_CLIENT_ID}
  staging:
    integration:
      redirect_uris: [http://staging.acme.example/callback]
"""
ENV = {
    "GONG_CLIENT_ID": "prod",
    "GONG_DEV_CLIENT_ID": "dev",
    "GONG_CLIENT_SECRET": "s",
    "GONG_AUTHLIB_KEY": "k",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return integration_file(tmp_path, GOOD + ENVIRONMENTS)


def test_every_environment_is_checked_at_the_override_line(config: Path) -> None:
    [finding] = validate_file(config)
    assert finding.code == "insecure-url"
    assert finding.message.startswith("in environment 'staging': ")
    assert (finding.line, finding.path) == (50, "integration.redirect_uris[0]")


def test_env_selects_one_environment(config: Path) -> None:
    assert validate_file(config, environment="developer") == []
    [finding] = validate_file(config, environment="stagign")
    assert finding.code == "unknown-environment"
    assert finding.suggestion == "staging"


def test_load_config_merges_the_environment(config: Path) -> None:
    config.write_text(GOOD + ENVIRONMENTS.split("  staging:", maxsplit=1)[0])
    production = load_config(config, environ=ENV)
    developer = load_config(config, environ=ENV, env="developer")
    assert production.oauth is not None
    assert developer.oauth is not None
    assert production.oauth.client_id == "prod"
    assert developer.oauth.client_id == "dev"
    assert developer.oauth.client_secret.reveal() == "s"  # inherited from the base file
    assert developer.integration.redirect_uris == ("http://127.0.0.1:9999/callback",)
    assert developer.integration.contacts == ("dev@acme.example",)
    assert developer.integration.scopes == production.integration.scopes
    with pytest.raises(ConfigError, match="unknown-environment"):
        load_config(config, environ=ENV, env="prod")


def test_validate_cli_env_flag(config: Path) -> None:
    assert run_cli("validate", str(config)).returncode == 1
    assert run_cli("validate", "--env", "developer", str(config)).returncode == 0
    result = run_cli("validate", "--env", "staging", str(config))
    assert result.returncode == 1
    assert "in environment 'staging'" in result.stdout
    assert f"{config}:50:" in result.stdout
