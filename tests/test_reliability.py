"""The reliability suite: faults at the token endpoint, skewed clocks, and fuzzed input at every
boundary (token responses, integration files, command lines). Each test records its figures
for docs/reliability.md (see tests/reliability.py). HYPOTHESIS_PROFILE=slow runs 10,000
cases per fuzzer."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gong_authlib import (
    GongAuthError,
    OAuthError,
    ReauthorizationRequired,
    TokenEndpointError,
    gong_session,
)
from gong_authlib.cli import main
from gong_authlib.config.diagnostics import DIAGNOSTIC_CODES
from gong_authlib.config.validate import check_document
from gong_authlib.config.yamlsource import read_source
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeClock, FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into
from tests.helpers import CONFIG_DATA, run_cli_bounded
from tests.hostile import HOSTILE_FILES
from tests.reliability import Reliability

pytestmark = pytest.mark.reliability


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong() as fake:
        fake.add_customer("acme")
        yield fake


def _expired_session(gong: FakeGong, store: MemoryTokenStore, **options: Any) -> Any:
    authorize_into(gong, store)
    session = gong_session(gong.oauth_client(**options), store, "acme", retries=0, rate_limit=None)
    gong.clock.advance(86_400)
    return session


FAULTS = [
    ("5xx twice, then well", {"kind": "status", "status": 503, "times": 2}, "recovered"),
    ("429 with Retry-After 0", {"kind": "status", "status": 429, "retry_after": 0}, "recovered"),
    ("5xx beyond the retries", {"kind": "status", "status": 502, "times": 4}, "error"),
    ("connection reset", {"kind": "drop"}, "error"),
    ("HTML error page", {"kind": "html", "status": 502, "times": 4}, "error"),
    ("truncated JSON", {"kind": "truncated"}, "error"),
    ("latency under the timeout", {"kind": "delay", "seconds": 0.2}, "recovered"),
]


@pytest.mark.parametrize(("name", "fault", "outcome"), FAULTS, ids=[f[0] for f in FAULTS])
def test_token_endpoint_faults_lose_nothing(
    gong: FakeGong, reliability: Reliability, name: str, fault: dict[str, Any], outcome: str
) -> None:
    store = MemoryTokenStore()
    session = _expired_session(gong, store)
    before = store.get("acme")
    gong.inject("token", **fault)
    if outcome == "recovered":
        assert session.get("/v2/users").status_code == 200
        result = "refreshed once, call answered 200"
    else:
        with pytest.raises(TokenEndpointError):
            session.get("/v2/users")
        assert store.get("acme") == before  # the stored token set is intact...
        assert session.get("/v2/users").status_code == 200  # ...and works once Gong does
        result = "TokenEndpointError, stored token intact, next call refreshed and answered 200"
    assert gong.stats.refreshes("acme") == 1
    assert sum(gong.stats.invalid_grant.values()) == 0
    reliability.record("fault", f"token endpoint: {name}", "during a refresh", result)


def test_timeout_after_gong_processed_the_refresh_is_a_known_loss(
    gong: FakeGong, reliability: Reliability
) -> None:
    """Gong's refresh tokens are single-use: if Gong rotates them and the answer never
    arrives, the new pair is lost and the old one is dead. No client can prevent that; the
    library says so clearly instead of looping."""
    store = MemoryTokenStore()
    session = _expired_session(gong, store, timeout=(2.0, 0.2))
    gong.inject("token", "delay", seconds=0.6)  # FakeGong answers after the client gave up
    with pytest.raises(TokenEndpointError, match="timed out"):
        session.get("/v2/users")
    deadline = time.monotonic() + 10
    while gong.stats.refreshes("acme") == 0:  # wait for FakeGong to finish the late refresh
        assert time.monotonic() < deadline
        time.sleep(0.01)
    gong.clock.advance(1)
    with pytest.raises(ReauthorizationRequired):
        session.get("/v2/users")
    assert store.get("acme") is not None  # kept for the operator; nothing deleted
    reliability.record(
        "fault",
        "token endpoint: read timeout after Gong rotated",
        "answer arrives after the 0.2 s read timeout",
        "TokenEndpointError, then ReauthorizationRequired: the one loss no client can avoid "
        "(documented; the default read timeout is 30 s)",
    )


@pytest.mark.parametrize("skew", [-300, 300])
def test_client_clock_skew_of_five_minutes(skew: int, reliability: Reliability) -> None:
    gong_clock = FakeClock()
    with FakeGong(clock=gong_clock) as gong:
        gong.add_customer("acme")
        client_clock = FakeClock(gong_clock() + skew)
        store = MemoryTokenStore()
        client = gong.oauth_client(clock=client_clock)
        authorize_into(gong, store, client=client)
        session = gong_session(client, store, "acme", retries=0, rate_limit=None)
        for hours in range(1, 30):  # past one token lifetime, and into the next
            gong_clock.advance(3600)
            client_clock.advance(3600)
            assert session.get("/v2/users").status_code == 200, hours
        assert gong.stats.refreshes("acme") == 1
        assert sum(gong.stats.invalid_grant.values()) == 0
    how = "client ahead by 5 min" if skew > 0 else "client behind by 5 min"
    outcome = (
        "refreshed 5 min earlier than needed; every call 200"
        if skew > 0
        else "one 401 answered by a refresh and a resend; every call 200"
    )
    reliability.record("fault", "clock skew", how, outcome)


_TOKEN_FIELDS = st.sampled_from(
    [
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
        "api_base_url_for_customer",
        "error",
        "error_description",
        "requestId",
    ]
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["Bearer", "invalid_grant", "https://us-1.api.gong.io"]),
    st.lists(st.integers(), max_size=3),
)


@st.composite
def token_answers(draw: st.DrawFn) -> tuple[int, Any]:
    status = draw(st.sampled_from([200, 200, 200, 400, 401, 403, 500, 503]))
    body: Any = (
        draw(st.dictionaries(_TOKEN_FIELDS, _VALUES, max_size=7))
        if draw(st.booleans())
        else draw(st.binary(max_size=200))
    )
    return status, body


def test_token_responses_fuzzed_over_http(gong: FakeGong, reliability: Reliability) -> None:
    store = MemoryTokenStore()
    token = authorize_into(gong, store)
    client = gong.oauth_client(retries=0)
    tried: list[str] = []

    @given(token_answers())
    @settings(database=None)
    def answer(case: tuple[int, Any]) -> None:
        status, body = case
        gong.inject("token", "body", status=status, body=body)
        try:
            answer = client.refresh_answer(token)
        except (TokenEndpointError, ReauthorizationRequired, OAuthError):
            tried.append("error")
            return
        # Whatever came, what is kept can be stored and read back.
        assert Token.from_json(answer.token.to_json()) == answer.token
        tried.append("token")

    answer()
    reliability.record(
        "input",
        "token endpoint answers",
        f"{len(tried):,} fuzzed status/body pairs over real HTTP",
        "only Token, TokenEndpointError, OAuthError or ReauthorizationRequired came out; "
        "every token kept could be stored and read back",
    )


def test_integration_files_fuzzed(reliability: Reliability) -> None:
    good = (CONFIG_DATA / "good.yaml").read_text()
    tried = 0

    @given(st.text(max_size=300), st.integers(0, len(good)), st.integers(0, 40))
    @settings(database=None)
    def mutate(noise: str, position: int, cut: int) -> None:
        nonlocal tried
        text = good[:position] + noise + good[position + cut :]
        found = check_document(
            read_source(text.encode("utf-8", "surrogatepass"), "f.yaml"), base_dir=CONFIG_DATA
        )
        assert {d.code for d in found} <= DIAGNOSTIC_CODES.keys()
        tried += 1

    mutate()
    reliability.record(
        "input",
        "integration files",
        f"{tried:,} mutations of a valid file (text spliced in, spans cut)",
        "only documented diagnostics; no exception",
    )


_ARGUMENTS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "validate",
                "schema",
                "plan",
                "tokens",
                "list",
                "show",
                "--format",
                "json",
                "text",
                "github",
                "markdown",
                "--env",
                "--extra-scope",
                "--path",
                "--no-color",
                "--against",
                "--customer",
                "--store",
                "memory://",
                "sqlite:///",
                "--detailed-exitcode",
                str(CONFIG_DATA / "good.yaml"),
                str(CONFIG_DATA / "bad" / "yaml-alias.yaml"),
                "--help",
                "-h",
                "--",
                "-",
            ]
        ),
        st.text(max_size=12),
        # integers, infinities, empty strings, lone surrogates and URL-ish values
        st.integers().map(str),
        st.sampled_from(["", "inf", "-inf", "nan", "1e999", "-1", "0", "9" * 5000]),
        st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),
        st.sampled_from(
            [
                "--timeout",
                "--config",
                "sqlite:////tmp/a%00b.db",
                "sqlite:///",
                "redis://127.0.0.1:99999/0",
                "redis://127.0.0.1:1/0?db=x",
                "redis://127.0.0.1:1/0?ssl_cert_reqs=bogus",
                "redis://127.0.0.1:1/x",
                "postgresql://app:pw@[::1/db",
                "postgresql://app:pw@127.0.0.1:99999/db",
                "host=db user=app password=pw",
                "http://",
                "://",
                "%00",
            ]
        ),
    ),
    max_size=6,
)


def test_command_lines_fuzzed(reliability: Reliability) -> None:
    tried = 0
    codes: set[int] = set()

    @given(_ARGUMENTS)
    @settings(database=None)
    def run(arguments: list[str]) -> None:
        nonlocal tried
        if any(a in arguments for a in ("authorize", "demo", "refresh", "delete", "origins")):
            return  # these talk to Gong or wait for a person
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(arguments)
            except SystemExit as exit_:  # argparse's own exits: --help and usage errors
                code = int(exit_.code or 0)
        assert code in (0, 1, 2), (arguments, code)
        assert "Traceback" not in err.getvalue()
        assert "internal error" not in err.getvalue(), (arguments, err.getvalue())
        codes.add(code)
        tried += 1

    run()
    reliability.record(
        "input",
        "command lines",
        f"{tried:,} fuzzed argument lists (validate, schema, plan, tokens; integers, "
        "infinities, empty strings, lone surrogates, malformed store URLs)",
        f"exit codes seen {sorted(codes)}; never a traceback or an internal error",
    )


def test_hostile_integration_files(reliability: Reliability, tmp_path: Path) -> None:
    """Each hostile file through the real CLI, bounded by a timeout and an output budget."""
    for index, (name, (make, described)) in enumerate(HOSTILE_FILES.items()):
        folder = tmp_path / str(index)
        folder.mkdir()
        path = make(folder)
        size = path.stat().st_size
        started = time.perf_counter()
        code, output = run_cli_bounded(
            "validate", path.name, cwd=folder, timeout=20, max_output=200_000
        )
        seconds = time.perf_counter() - started
        assert code == 1, (name, output[-500:])
        assert len(output) <= 200_000, name
        assert b"\x1b" not in output, name
        assert b"Traceback" not in output, name
        reliability.record(
            "input",
            f"hostile integration file: {described}",
            f"{size:,} bytes through `gong-authlib validate`",
            f"exit 1 in {seconds:.1f} s with {len(output):,} bytes of output",
        )


def test_security_properties_recorded(reliability: Reliability) -> None:
    """The security checks live across the suite; this row says where, and that they ran."""
    for what, where in (
        ("no secret in any log record", "every test: DEBUG capture of all loggers (conftest)"),
        ("no secret in repr, str or exception text", "test_token, test_oauth_client, test_auth"),
        ("token never sent to a foreign origin", "test_auth: other customer, other host, @-trick"),
        ("forged, replayed and expired state rejected", "test_state, test_cli_authorize"),
        ("store files 0600, folder 0700", "test_sqlite_store"),
        (
            "SQLite store never follows links or touches devices, FIFOs, other users' files",
            "test_sqlite_file_safety (as nobody and as root)",
        ),
        ("no URL or DSN password in store errors or driver logs", "test_hostile_arguments"),
        ("no raw control character in validate or plan output", "test_rules_hardening"),
        ("cassettes scrubbed at any depth and of echoed secrets", "test_vcr_scrubber"),
        ("encrypted stores unreadable without the key", "test_sqlite_store, contract suite"),
        ("no secret in committed cassettes", "test_cassettes"),
        ("encrypted rows bound to their customer", "test_store_status: a copied row is refused"),
        ("plaintext rows refused by encrypted stores", "test_store_status, unless migrating"),
        (
            "base URLs read as urllib3 reads them (backslash, userinfo, query, fragment)",
            "test_origins_parsing, test_core_guarantees",
        ),
    ):
        reliability.record("security", what, where, "held")
    assert json.dumps(reliability.rows)
    assert issubclass(TokenEndpointError, GongAuthError)


ODD_ANSWERS = [
    ("untrusted api_base_url_for_customer", {"api_base_url_for_customer": "https://evil.example"}),
    ("no api_base_url_for_customer", None),
    ("CR/LF in the access token", {"access_token": "eyJx\r\nX-Evil: 1"}),
    ("expires_in Infinity", {"expires_in": float("inf")}),
    ("expires_in NaN", {"expires_in": float("nan")}),
    ("expires_in 1e300", {"expires_in": 1e300}),
    ("expires_in 2**70", {"expires_in": 2**70}),
]


@pytest.mark.parametrize(("name", "changes"), ODD_ANSWERS, ids=[o[0] for o in ODD_ANSWERS])
def test_odd_refresh_answers_lose_no_refresh_token(
    gong: FakeGong, reliability: Reliability, name: str, changes: dict[str, Any] | None
) -> None:
    """Gong rotated the pair and the answer is odd: the new refresh token is persisted first,
    then the problem is reported; the next refresh with it succeeds."""
    store = MemoryTokenStore()
    session = _expired_session(gong, store)
    before = store.get("acme")
    if changes is None:
        gong.inject("token", "answer", remove=("api_base_url_for_customer",))
    else:
        gong.inject("token", "answer", changes=changes)
    try:
        outcome = f"call answered {session.get('/v2/users').status_code}"
    except GongAuthError as error:
        outcome = type(error).__name__
    kept = store.get("acme")
    assert kept is not None
    assert before is not None
    assert kept.refresh_token != before.refresh_token
    assert gong.oauth_client().refresh(kept).refresh_token  # the kept one is live at Gong
    assert sum(gong.stats.invalid_grant.values()) == 0
    reliability.record(
        "fault",
        f"refresh answer after rotation: {name}",
        "Gong rotated the pair, then the answer was altered",
        f"{outcome}; new refresh token persisted first and accepted by Gong; refresh tokens lost 0",
    )


def test_missing_scope_401s_rotate_nothing(gong: FakeGong, reliability: Reliability) -> None:
    store = MemoryTokenStore()
    gong.sign_in("acme")
    client = gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], gong.redirect_uri)
    _, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    store.put("acme", client.exchange_code(code, gong.redirect_uri))
    gong.clock.advance(3600)
    # Pacing is not under test here: at Gong's 3 calls a second, 100 calls would take 33 s.
    session = gong_session(client, store, "acme", retries=0, rate_limit=None)
    statuses = [session.get("/v2/calls").status_code for _ in range(100)]
    assert statuses == [401] * 100
    assert gong.stats.refreshes("acme") == 0
    reliability.record(
        "fault",
        "missing scope: Gong's 401 'You don't have permission to use …'",
        "100 calls to an endpoint the app has no scope for",
        "100 x 401 returned; 0 refreshes; one WARNING naming the scope",
    )


def test_client_clock_ahead_by_the_token_lifetime(reliability: Reliability) -> None:
    gong_clock = FakeClock()
    with FakeGong(clock=gong_clock) as gong:
        gong.add_customer("acme")
        client_clock = FakeClock(gong_clock() + 3600)
        store = MemoryTokenStore()
        client = gong.oauth_client(clock=client_clock)
        authorize_into(gong, store, client=client, validity_duration=3600)
        session = gong_session(client, store, "acme", retries=0)
        for _ in range(10):
            assert session.get("/v2/users").status_code == 200
        assert gong.stats.refreshes("acme") == 0
    reliability.record(
        "fault",
        "clock skew",
        "client ahead by 1 h with 1 h tokens (JWT exp past on receipt)",
        "10 calls, 0 refreshes (was 20): expires_in trusted from receipt, skew logged once",
    )
