"""A cold start pays only for what it uses: what each front end's import may load.

Serverless workers, job runners and short CLI calls import the package on every start.
authlib (its requests integration loads OpenID and JOSE code) waits for the first token call,
each store backend for its own use, anyio for the first async path, opentelemetry for the
first telemetry event; the httpx front end loads neither requests nor urllib3 (the token
endpoint's session and the retry policy come with the first token call and the first client).
The static twin of test_validate_is_light.py's probe, for the HTTP side.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

NEVER_AT_IMPORT = (
    "authlib",
    "joserfc",
    "anyio",
    "opentelemetry",
    "cryptography",
    "redis",
    "psycopg",
    "psycopg_pool",
    "sqlite3",
    "yaml",
    "jsonschema",
    "typing_extensions",  # what type checkers read (PEP 696 defaults), not code that runs
    "signal",  # with the first CustomerToken, which installs the SIGTERM hook
)
OUR_MODULES_NEVER_AT_IMPORT = (
    "gong_authlib.cli",
    "gong_authlib.config",
    # Each loads with its first use, and each defines a dataclass (Python compiles its
    # generated methods at import, about half a millisecond apiece; issue 24).
    "gong_authlib.gong.paging",
    "gong_authlib.oauth.state",
    "gong_authlib.stores.leases",
    "gong_authlib.stores.rate_budget",
    "gong_authlib.stores.webhook_keys",
    "gong_authlib.tokens.access_key",
    "gong_authlib.transport.httpx.access_key_auth",
    "gong_authlib.transport.requests.access_key_auth",
    "gong_authlib.loopback",
    "gong_authlib.stores.memory",
    "gong_authlib.stores.postgres",
    "gong_authlib.stores.redis",
    "gong_authlib.stores.sqlite",
    "gong_authlib.stores.urls",
    "gong_authlib.telemetry.otel",
    "gong_authlib.testing",
    "gong_authlib.transport.httpx.async_support",
    "gong_authlib.web",
    "gong_authlib.webhooks",
)

PROBE = """
import json, sys
{statement}
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(statement: str) -> tuple[set[str], list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    modules: list[str] = json.loads(result.stdout)
    return {name.split(".")[0] for name in modules}, modules


def _ours_loaded(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        for banned in OUR_MODULES_NEVER_AT_IMPORT
        if name == banned or name.startswith(banned + ".")
    ]


@pytest.mark.parametrize(
    ("statement", "transport", "other_transport"),
    [
        ("from gong_authlib import GongAuth, gong_session", "requests", "httpx"),
        ("from gong_authlib import gong_httpx_client", "httpx", "requests"),
        ("from gong_authlib import GongHttpxAuth, gong_async_client", "httpx", "requests"),
    ],
)
def test_a_front_end_loads_its_transport_and_nothing_heavy(
    statement: str, transport: str, other_transport: str
) -> None:
    top_level, modules = _loaded(statement)
    assert transport in top_level, "the probe really imported the front end"
    assert [name for name in NEVER_AT_IMPORT if name in top_level] == []
    assert other_transport not in top_level
    if transport == "httpx":
        assert "urllib3" not in top_level
    else:  # httpx loads uuid itself; ours waits for a store's first identity claim
        assert "uuid" not in top_level
    assert _ours_loaded(modules) == []


def test_a_token_call_loads_authlib_and_a_store_its_backend_only(tmp_path: Path) -> None:
    statement = (
        "from gong_authlib import GongAuth, SQLiteTokenStore\n"
        "from gong_authlib.testing import FakeGong\n"
        "from tests.authflow import authorize_into\n"
        "with FakeGong() as gong:\n"
        "    gong.add_customer('acme')\n"
        f"    authorize_into(gong, SQLiteTokenStore({str(tmp_path / 'tokens.db')!r}))"
    )
    top_level, modules = _loaded(statement)
    assert {"authlib", "sqlite3"} <= top_level
    assert [name for name in ("redis", "psycopg", "anyio", "httpx") if name in top_level] == []
    assert "gong_authlib.stores.redis" not in modules
    assert "gong_authlib.stores.postgres" not in modules


def test_building_an_async_client_loads_anyio_before_the_loop_runs() -> None:
    statement = (
        "import time\n"
        "from gong_authlib import GongOAuthClient, MemoryTokenStore, Token, gong_async_client\n"
        "store = MemoryTokenStore()\n"
        "store.put('acme', Token(access_token='a' * 40, refresh_token='r' * 40,\n"
        "    expires_at=time.time() + 3600, api_base_url='https://us-1.api.gong.io'))\n"
        "client = gong_async_client(GongOAuthClient('id', 'secret'), store, 'acme')"
    )
    _, modules = _loaded(statement)
    # anyio imports its event-loop backend on first use: paid here, not on the loop later.
    assert {"anyio", "anyio._backends._asyncio"} <= set(modules)
    assert "gong_authlib.transport.httpx.async_support" in modules
