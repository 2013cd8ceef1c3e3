"""GongHttpxAuth with real httpx.Client and httpx.AsyncClient against FakeGong, every store kind.

The same guarantees as GongAuth on requests: hot path, one refresh per expiry across tasks,
401 resend once with history, origin refusal before sending, unreplayable bodies refused
clearly, and an event loop that keeps running while a refresh is slow.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gong_authlib import (
    GongHttpxAuth,
    OriginMismatch,
    ReauthorizationRequired,
    RequestNotReplayable,
    TokenStoreError,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib.stores import MemoryTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from gong_authlib.tokens.customer_token import Current
from tests.authflow import authorize_into
from tests.stores import make_store

STORE_KINDS = ["memory", "sqlite", "redis", "postgres"]


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    store = make_store(request.param, request, tmp_path)
    yield store
    store.close()


def _api_calls(gong: FakeGong) -> int:
    return sum(gong.stats.api_calls.values())


# -- hot path --------------------------------------------------------------------------------


def test_sync_client_sends_the_stored_token_to_relative_paths(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    token = authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        response = client.get("/v2/users")
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == f"Bearer {token.access_token}"
    assert str(response.request.url) == token.api_base_url + "/v2/users"
    assert fake_gong.stats.refreshes() == 0


def test_async_client_sends_the_stored_token(fake_gong: FakeGong, store: TokenStore) -> None:
    token = authorize_into(fake_gong, store)

    async def main() -> list[httpx.Response]:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            return [await client.get("/v2/users") for _ in range(3)]

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.request.headers["Authorization"] for r in responses} == {
        f"Bearer {token.access_token}"
    }
    assert fake_gong.stats.refreshes() == 0


class CountingStore(MemoryTokenStore):
    """A real memory store that counts reads, to prove the hot path never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, customer: str) -> Token | None:
        self.reads += 1
        return super().get(customer)


def test_hot_path_reads_the_store_only_to_load(fake_gong: FakeGong) -> None:
    store = CountingStore()
    authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        for _ in range(20):
            assert client.get("/v2/users").status_code == 200
    assert store.reads == 2  # the client's base URL, then the auth's first load; never again


# -- refresh once ----------------------------------------------------------------------------


def test_fifty_tasks_after_an_expiry_make_one_refresh(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    gong = fake_gong
    gong.inject("token", "delay", seconds=0.1)  # a slow refresh: every task finds it stale

    async def main() -> list[httpx.Response]:
        async with gong_async_client(gong.oauth_client(), store, "acme", rate_limit=None) as client:
            await client.get("/v2/users")
            gong.clock.advance(86_400)
            return await asyncio.gather(*(client.get("/v2/users") for _ in range(50)))

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 50
    assert all(r.history == [] for r in responses)  # refreshed before sending, no 401s
    assert gong.stats.refreshes("acme") == 1
    assert sum(gong.stats.invalid_grant.values()) == 0


def test_fifty_stale_tasks_make_one_trip_off_the_loop(fake_gong: FakeGong) -> None:
    """Tasks queue on the async lock and re-check, rather than each taking a worker thread
    to wait on the thread lock and re-read the store."""
    store = CountingStore()
    authorize_into(fake_gong, store)
    fake_gong.inject("token", "delay", seconds=0.1)

    async def main() -> list[httpx.Response]:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            await client.get("/v2/users")
            fake_gong.clock.advance(86_400)
            store.reads = 0
            return await asyncio.gather(*(client.get("/v2/users") for _ in range(50)))

    assert [r.status_code for r in asyncio.run(main())] == [200] * 50
    assert fake_gong.stats.refreshes("acme") == 1
    assert store.reads == 2  # one stale path: read, then re-read under the lease


def test_fifty_tasks_after_an_early_ended_token_make_one_refresh(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    gong = fake_gong

    async def main() -> list[httpx.Response]:
        async with gong_async_client(gong.oauth_client(), store, "acme", rate_limit=None) as client:
            await client.get("/v2/users")
            gong.clock.advance(120)  # later, within the token's lifetime
            gong.invalidate_access_tokens("acme")
            return await asyncio.gather(*(client.get("/v2/users") for _ in range(50)))

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 50
    assert all([h.status_code for h in r.history] == [401] for r in responses)
    assert gong.stats.refreshes("acme") == 1
    assert sum(gong.stats.invalid_grant.values()) == 0


def test_separate_clients_of_one_customer_share_the_refresh(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    oauth = fake_gong.oauth_client()

    async def one(client: httpx.AsyncClient) -> int:
        async with client:
            return (await client.get("/v2/users")).status_code

    async def main() -> list[int]:
        fake_gong.clock.advance(86_400)
        clients = [gong_async_client(oauth, store, "acme", rate_limit=None) for _ in range(20)]
        return await asyncio.gather(*(one(c) for c in clients))

    assert asyncio.run(main()) == [200] * 20
    assert fake_gong.stats.refreshes("acme") == 1


def test_one_auth_serves_event_loop_after_event_loop(fake_gong: FakeGong) -> None:
    """The async lock is per loop run: an auth kept across asyncio.run calls must not trip
    over a lock bound to a loop that is gone."""
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    auth = GongHttpxAuth(fake_gong.oauth_client(), store, "acme")

    async def burst() -> list[int]:
        fake_gong.clock.advance(86_400)
        async with httpx.AsyncClient(auth=auth) as client:
            url = store.get("acme").api_base_url + "/v2/users"  # type: ignore[union-attr]
            responses = await asyncio.gather(*(client.get(url) for _ in range(10)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 10
    assert asyncio.run(burst()) == [200] * 10
    assert fake_gong.stats.refreshes("acme") == 2


def test_the_async_flow_runs_on_trio_too(fake_gong: FakeGong) -> None:
    trio = pytest.importorskip("trio")
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    statuses: list[int] = []

    async def main() -> None:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            fake_gong.clock.advance(86_400)
            async with trio.open_nursery() as nursery:
                for _ in range(10):

                    async def call() -> None:
                        statuses.append((await client.get("/v2/users")).status_code)

                    nursery.start_soon(call)

    trio.run(main)
    assert statuses == [200] * 10
    assert fake_gong.stats.refreshes("acme") == 1


def test_threads_sharing_one_sync_client_make_one_refresh(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    fake_gong.inject("token", "delay", seconds=0.05)
    statuses: list[int] = []
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client.get("/v2/users")
        fake_gong.clock.advance(86_400)
        barrier = threading.Barrier(16)

        def call() -> None:
            barrier.wait(timeout=30)
            statuses.append(client.get("/v2/users").status_code)

        workers = [threading.Thread(target=call) for _ in range(16)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert statuses == [200] * 16
    assert fake_gong.stats.refreshes("acme") == 1


def test_fresh_async_serves_other_async_transports(fake_gong: FakeGong) -> None:
    """What an aiohttp adapter would call: one refresh for many tasks, off the loop."""
    store = MemoryTokenStore()
    token = authorize_into(fake_gong, store)
    auth = GongHttpxAuth(fake_gong.oauth_client(), store, "acme")

    async def main() -> set[str]:
        fake_gong.clock.advance(86_400)
        currents = await asyncio.gather(*(auth.fresh_async() for _ in range(20)))
        return {current.header for current in currents}

    headers = asyncio.run(main())
    assert len(headers) == 1
    assert headers != {f"Bearer {token.access_token}"}
    assert fake_gong.stats.refreshes("acme") == 1


def test_a_revoked_customer_raises_reauthorization_required(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    before = authorize_into(fake_gong, store)
    fake_gong.revoke("acme")
    fake_gong.clock.advance(86_400)
    client = gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    with client, pytest.raises(ReauthorizationRequired):
        client.get("/v2/users")

    async def main() -> None:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            await client.get("/v2/users")

    with pytest.raises(ReauthorizationRequired):
        asyncio.run(main())
    assert store.get("acme") == before  # kept for an operator, never overwritten
    assert fake_gong.stats.api_calls["acme"] == 0  # nothing sent without a valid token


# -- the event loop keeps running --------------------------------------------------------------


def test_the_loop_keeps_ticking_during_a_one_second_refresh(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    fake_gong.inject("token", "delay", seconds=1.0)
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def main() -> tuple[list[int], float]:
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            fake_gong.clock.advance(86_400)
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.get("/v2/users") for _ in range(50)))
            took = time.perf_counter() - started
        stop.set()
        await ticking
        return [r.status_code for r in responses], took

    statuses, took = asyncio.run(main())
    assert statuses == [200] * 50
    assert fake_gong.stats.refreshes("acme") == 1
    assert took >= 1.0  # the refresh really was slow...
    assert len(gaps) >= 25  # ...the ticker ran all along (50 ticks a second)...
    assert max(gaps) < 0.2, f"the event loop stalled for {max(gaps) * 1e3:.0f} ms"


# -- 401 ---------------------------------------------------------------------------------------


def test_401_refreshes_once_and_resends_once_keeping_history(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        first = client.get("/v2/users")
        fake_gong.invalidate_access_tokens("acme")
        response = client.get("/v2/users")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert response.history[0].json()["errors"] == ["Access denied"]  # read, as httpx does
    assert response.request.headers["Authorization"] != first.request.headers["Authorization"]
    assert fake_gong.stats.refreshes() == 1


def test_a_second_401_is_returned_not_looped(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client.get("/v2/users")
        fake_gong.inject("api", "status", status=401, times=2)
        response = client.get("/v2/users")
    assert response.status_code == 401
    assert len(response.history) == 1
    assert fake_gong.stats.refreshes() == 1


@pytest.mark.parametrize("status", [403, 404])
def test_other_refusals_never_refresh(fake_gong: FakeGong, status: int) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    with gong_httpx_client(
        fake_gong.oauth_client(), store, "acme", retries=0, rate_limit=None
    ) as client:
        fake_gong.inject("api", "status", status=status)
        assert client.get("/v2/users").status_code == status
    assert fake_gong.stats.refreshes() == 0


def test_a_401_the_core_does_not_blame_on_the_token_is_returned_unsent(
    fake_gong: FakeGong,
) -> None:
    """The 401 decision is the core's: when it keeps the token (a missing scope, a token just
    issued), the adapter neither refreshes nor resends the same header."""
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    auth = GongHttpxAuth(fake_gong.oauth_client(), store, "acme")
    customer_token = auth.customer_token

    def keep_the_token(failed_header: str, body: bytes | str | None = None) -> Current:
        assert customer_token.current is not None
        return customer_token.current

    customer_token.after_401 = keep_the_token  # type: ignore[method-assign]
    url = store.get("acme").api_base_url + "/v2/users"  # type: ignore[union-attr]
    fake_gong.inject("api", "status", status=401, times=3)
    with httpx.Client(auth=auth) as client:
        assert client.get(url).status_code == 401

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth) as client:
            return await client.get(url)

    response = asyncio.run(main())
    assert response.status_code == 401
    assert response.history == []
    assert [f.times for f in fake_gong.emulator.faults] == [1]  # two requests, no resend
    assert fake_gong.stats.refreshes() == 0


NOT_REPLAYABLE = "the token was refreshed, but the request body is a stream that cannot be sent"


def test_a_streamed_body_is_not_resent_after_401_sync(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)

    def chunks() -> Iterator[bytes]:
        yield b'{"integrationTypeSettings": []}'

    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client.get("/v2/users")
        fake_gong.invalidate_access_tokens("acme")
        with pytest.raises(RequestNotReplayable, match=NOT_REPLAYABLE):
            client.post("/v2/integration-settings", content=chunks())
        assert fake_gong.stats.refreshes() == 1  # refreshed: the caller's retry will work
        assert client.get("/v2/users").status_code == 200


def test_a_streamed_body_is_not_resent_after_401_async(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"integrationTypeSettings": []}'

    async def main() -> int:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            await client.get("/v2/users")
            fake_gong.invalidate_access_tokens("acme")
            with pytest.raises(RequestNotReplayable, match=NOT_REPLAYABLE):
                await client.post("/v2/integration-settings", content=chunks())
            return (await client.get("/v2/users")).status_code

    assert asyncio.run(main()) == 200
    assert fake_gong.stats.refreshes() == 1


def test_requests_and_httpx_say_the_same_about_unreplayable_bodies(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    oauth = fake_gong.oauth_client()
    messages = []
    session = gong_session(oauth, store, "acme")
    client = gong_httpx_client(oauth, store, "acme", rate_limit=None)
    for send in (
        lambda: session.post("/v2/integration-settings", data=iter([b"{}"])),
        lambda: client.post("/v2/integration-settings", content=iter([b"{}"])),
    ):
        # Gong accepts the token in use first: one a 401 fetched and never accepted would
        # have its next 401 handed back (Token.after_401) instead of refreshed again.
        assert session.get("/v2/users").status_code == 200
        fake_gong.invalidate_access_tokens("acme")
        with pytest.raises(RequestNotReplayable) as raised:
            send()
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


def test_a_json_body_is_resent_after_401(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    body = {
        "integrationTypeSettings": [
            {"integrationType": "DIALER", "allowedOrigin": "https://a.partner.example"}
        ]
    }

    async def main() -> httpx.Response:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            await client.get("/v2/users")
            fake_gong.invalidate_access_tokens("acme")
            return await client.post("/v2/integration-settings", json=body)

    response = asyncio.run(main())
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert fake_gong.emulator.allowed_origins["acme"] == body["integrationTypeSettings"]


def test_multipart_files_are_resent_after_401(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    media = io.BytesIO(b"RIFF-some-call-recording")
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client.get("/v2/users")
        fake_gong.invalidate_access_tokens("acme")
        response = client.post("/v2/integration-settings", files={"media": media})
    assert [r.status_code for r in response.history] == [401]
    assert response.status_code == 400  # resent (FakeGong wants JSON there), not refused
    assert b"RIFF-some-call-recording" in response.request.read()


def test_a_file_object_body_is_refused_clearly_after_401(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client.get("/v2/users")
        fake_gong.invalidate_access_tokens("acme")
        with pytest.raises(RequestNotReplayable, match=NOT_REPLAYABLE):
            client.post("/v2/integration-settings", content=io.BytesIO(b"{}"))


# -- origins -----------------------------------------------------------------------------------


def test_token_never_goes_to_another_origin(fake_gong: FakeGong, store: TokenStore) -> None:
    globex = fake_gong.add_customer("globex")
    token = authorize_into(fake_gong, store)
    before = _api_calls(fake_gong)
    urls = (
        globex + "/v2/users",
        "https://evil.example/v2/users",
        token.api_base_url.replace("http://", "https://") + "/v2/users",
        token.api_base_url + "@evil.example/v2/users",
    )
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        for url in urls:
            with pytest.raises(
                OriginMismatch, match="refusing to send the token of customer 'acme'"
            ):
                client.get(url)

    async def main() -> None:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", rate_limit=None
        ) as client:
            for url in urls:
                with pytest.raises(
                    OriginMismatch, match="refusing to send the token of customer 'acme'"
                ):
                    await client.get(url)

    asyncio.run(main())
    assert _api_calls(fake_gong) == before  # refused before anything was sent


def test_a_redirect_elsewhere_carries_no_token_and_is_not_retried(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    elsewhere = fake_gong.add_customer("globex")
    fake_gong.inject("api", "status", status=302, headers={"Location": elsewhere + "/v2/users"})
    with gong_httpx_client(
        fake_gong.oauth_client(),
        store,
        "acme",
        client_options={"follow_redirects": True},
        rate_limit=None,
    ) as client:
        response = client.get("/v2/users")
    assert response.status_code == 401  # globex saw no token at all
    assert "Authorization" not in response.request.headers
    assert fake_gong.stats.api_401["globex"] == 1
    assert fake_gong.stats.refreshes() == 0


# -- lock wait bound ---------------------------------------------------------------------------


def test_the_async_lock_wait_is_bounded_by_lock_timeout(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    fake_gong.inject("token", "delay", seconds=1.0)
    oauth = fake_gong.oauth_client()

    async def main() -> tuple[BaseException | httpx.Response, BaseException | httpx.Response]:
        fake_gong.clock.advance(86_400)
        slow = gong_async_client(oauth, store, "acme", rate_limit=None)
        impatient = gong_async_client(oauth, store, "acme", lock_timeout=0.2, rate_limit=None)
        async with slow, impatient:
            first = asyncio.create_task(slow.get("/v2/users"))
            await asyncio.sleep(0.05)  # let the first task take the lock
            late = impatient.get("/v2/users")
            return await asyncio.gather(first, late, return_exceptions=True)

    slow_result, impatient_result = asyncio.run(main())
    assert isinstance(slow_result, httpx.Response)
    assert slow_result.status_code == 200
    assert isinstance(impatient_result, TokenStoreError)
    assert "could not get the refresh lock of customer 'acme' in 0.2s" in str(impatient_result)


# -- packaging ---------------------------------------------------------------------------------


def test_importing_the_package_or_gong_auth_does_not_import_httpx() -> None:
    probe = (
        "import json, sys, gong_authlib; gong_authlib.GongAuth; gong_authlib.gong_session;"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = result.stdout
    assert '"requests"' in loaded  # the probe really loaded the requests side
    assert '"httpx"' not in loaded
    assert '"anyio"' not in loaded


def test_without_httpx_the_error_names_the_extra() -> None:
    probe = (
        "import sys; sys.modules['httpx'] = None\n"
        "import gong_authlib\n"
        "try:\n"
        "    gong_authlib.GongHttpxAuth\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "GongHttpxAuth needs httpx: pip install 'gong-authlib[httpx]'"


def test_the_httpx_names_are_exported() -> None:
    import gong_authlib

    for name in ("GongHttpxAuth", "gong_httpx_client", "gong_async_client"):
        assert name in gong_authlib.__all__
        assert getattr(gong_authlib, name).__module__.startswith("gong_authlib.transport.httpx.")


# -- process storms ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis", "postgres"])
def test_async_process_storm_refreshes_once_per_expiry(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """4 processes x 8 asyncio tasks, each task its own httpx.AsyncClient, one shared store."""
    from tests.storm import async_storm_worker, process_storm
    from tests.test_storms import shared_store_url

    processes, tasks = 4, 8
    cycles = int(os.environ.get("GONG_AUTHLIB_STORM_CYCLES", "50"))
    storm = process_storm(
        shared_store_url(kind, request, tmp_path),
        processes=processes,
        threads=tasks,
        cycles=cycles,
        token_delay=0.02,
        target=async_storm_worker,
    )
    assert storm.exit_codes == [0] * processes
    assert storm.errors == []
    assert storm.statuses == {200: processes * tasks * cycles}
    assert storm.refreshes == cycles
    assert storm.invalid_grant == 0
