"""Command-line arguments and store URLs that once raised raw exceptions or leaked secrets.

Every case runs the real CLI in a subprocess: a clear one-line message, exit code 2 for a
usage error (1 for a file with findings), never "internal error", never a traceback, never
the password. The subprocess timeout bounds the malformed-PostgreSQL case, which used to wait
out the pool's 5 s connect timeout.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gong_authlib import TokenStoreError, open_store
from tests.conftest import SECRET_LOOKING
from tests.helpers import GOOD_CONFIG, integration_file, run_cli

PASSWORD = "hunter2"


def _clean(output: str) -> None:
    assert "internal error" not in output
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert not any(pattern.search(output) for pattern in SECRET_LOOKING), output


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("sqlite:////tmp/a%00b.db", "the SQLite path contains a NUL byte"),
        ("redis://localhost:99999/0", "port must be a number from 1 to 65535"),
        ("redis://localhost:6379/0?db=x", "invalid value for the Redis URL option 'db'"),
        ("redis://localhost:6379/x", "the Redis database is a number"),
        (
            "redis://localhost:6379/0?ssl_cert_reqs=bogus",
            "the Redis URL option 'ssl_cert_reqs' is none, optional or required",
        ),
        (
            f"redis://:{PASSWORD}@localhost:6379/0?socket_timeout=abc",
            "invalid value for the Redis URL option 'socket_timeout'",
        ),
        # Values redis-py accepts when parsing and fails on at first use, outside RedisError.
        *(
            (
                f"redis{tls}://:{PASSWORD}@localhost:6379/0?{option}={value}",
                f"the Redis URL option {option!r} is",
            )
            for tls in ("", "s")
            for option, value in (
                ("socket_connect_timeout", "-1"),
                ("socket_connect_timeout", "inf"),
                ("socket_timeout", "nan"),
                ("timeout", "1e400"),
                ("health_check_interval", "99999999999999999999"),
                ("protocol", "9"),
                ("retry_on_error", "x"),
            )
        ),
        (f"host=db user=app password={PASSWORD}", "the token store URL has no scheme"),
        (f"postgresql://app:{PASSWORD}@[::1/db", "the PostgreSQL URL is malformed"),
        (f"postgresql://app:{PASSWORD}@db:99999/x", "port must be a number from 1 to 65535"),
        (f"mysql://app:{PASSWORD}@db/x", "unsupported token store URL scheme 'mysql'"),
    ],
)
def test_malformed_store_urls(tmp_path: Path, store: str, expected: str) -> None:
    result = run_cli("tokens", "list", "--store", store, cwd=tmp_path, timeout=4)
    assert expected in result.stderr
    assert result.returncode == 2
    _clean(result.stdout + result.stderr)


def test_malformed_store_urls_in_the_library(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for url in (
        f"host=db user=app password={PASSWORD}",
        f"postgresql://app:{PASSWORD}@[::1/db",
        f"redis://:{PASSWORD}@localhost:99999/0",
    ):
        with pytest.raises(TokenStoreError) as caught:
            open_store(url)
        assert PASSWORD not in str(caught.value)
    assert PASSWORD not in caplog.text


def test_a_customer_name_that_is_empty_or_not_text(tmp_path: Path) -> None:
    for name in ("", "\udcff", "a\x1b]0;x\x07"):
        result = run_cli("tokens", "show", "--customer", name, "--store", "memory://", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "argument --customer:" in result.stderr
        _clean(result.stderr)


def test_a_lone_surrogate_customer_with_a_real_store(tmp_path: Path) -> None:
    result = run_cli(
        "tokens",
        "show",
        "--customer",
        "\udced\udca0\udc80",
        "--store",
        f"sqlite:///{tmp_path / 't.db'}",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "must be valid Unicode text" in result.stderr
    _clean(result.stderr)


@pytest.mark.parametrize("timeout", ["inf", "-inf", "nan", "-1", "0", "1e999"])
def test_authorize_timeout_must_be_finite_and_positive(tmp_path: Path, timeout: str) -> None:
    integration_file(tmp_path)
    result = run_cli("authorize", "--customer", "x", "--timeout", timeout, cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --timeout: " in result.stderr
    _clean(result.stderr)


def test_a_five_thousand_digit_integer(tmp_path: Path) -> None:
    text = GOOD_CONFIG.replace("version: 1", "version: " + "9" * 5000, 1)
    path = integration_file(tmp_path, text)
    for args in (
        ("validate", path.name),
        ("plan", "--against", path.name, path.name),
        ("tokens", "list", "--config", path.name),
    ):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "5,000 digits" in result.stdout + result.stderr
        _clean(result.stdout + result.stderr)


def test_bad_interpolation_never_echoes_the_value(tmp_path: Path) -> None:
    secret = "abcSECRETvalue123"
    text = GOOD_CONFIG.replace("${env:GONG_CLIENT_SECRET}", "${" + secret + "}", 1)
    integration_file(tmp_path, text)
    for fmt in ("text", "github", "json"):
        result = run_cli("validate", "--format", fmt, "gong-integration.yaml", cwd=tmp_path)
        assert result.returncode == 1
        assert "bad-interpolation" in result.stdout
        assert secret not in result.stdout + result.stderr, fmt


@pytest.mark.parametrize("name", ["psycopg.pool", "psycopg", "redis.connection"])
def test_store_driver_loggers_are_redacted(name: str, caplog: pytest.LogCaptureFixture) -> None:
    from gong_authlib.redaction import protect_third_party_loggers

    protect_third_party_loggers()
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger(name)
    logger.warning("error connecting in 'pool-1': %s", f"postgresql://app:{PASSWORD}@[::1/db")
    logger.warning("conninfo: host=db user=app password=%s port=5432", PASSWORD)
    logger.warning("conninfo: password = '%s x' port=5432", PASSWORD)
    assert PASSWORD not in caplog.text
    assert "postgresql://app:<redacted>@[::1/db" in caplog.text


def test_an_argument_with_a_lone_surrogate(capsys: pytest.CaptureFixture[str]) -> None:
    from gong_authlib.cli import main

    assert main(["plan", "\ud800"]) == 2  # found by the widened command-line fuzzer
    assert "not valid text" in capsys.readouterr().err


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"


@pytest.mark.parametrize(
    "args",
    [
        ("plan", f"{ESCAPES}.yaml"),
        ("fakegong", "--file", f"{ESCAPES}.yaml"),
        ("fakegong", "--client-secret-env", f"X{ESCAPES}"),
        ("validate", f"{ESCAPES}.yaml"),
        ("tokens", "list", "--store", f"sqlite:///{ESCAPES}/tokens.db"),
    ],
    ids=["plan-path", "fakegong-file", "fakegong-secret-env", "validate-path", "sqlite-path"],
)
def test_errors_echo_arguments_escaped(tmp_path: Path, args: tuple[str, ...]) -> None:
    # File names come from pull requests (`validate $(git ls-files)`, `plan` in CI): a message
    # that names one must not carry its escapes to the terminal raw.
    (tmp_path / ESCAPES).write_text("not a folder")
    result = run_cli(*args, cwd=tmp_path, timeout=10)
    assert result.returncode in (1, 2), result.stderr
    output = result.stdout + result.stderr
    _clean(output)
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in output, output
    assert "\\x1b]0;pwned" in output


@pytest.mark.parametrize(
    "text",
    [
        f"conninfo host=db user=app sslpassword={PASSWORD}",
        f"postgresql://app@db/x?sslmode=require&sslpassword={PASSWORD}",
        f"host=db PASSWORD = '{PASSWORD}'",
    ],
)
def test_redaction_covers_libpq_password_spellings(text: str) -> None:
    # sslpassword (the client key's passphrase) is a password too.
    from gong_authlib.redaction import redact

    assert PASSWORD not in redact(text)
