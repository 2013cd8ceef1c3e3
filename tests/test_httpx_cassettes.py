"""vcrpy records httpx traffic (sync and async) through gong_authlib's scrubber: no secret in
the cassette, and the cassette replays with no server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import vcr

from gong_authlib import gong_async_client, gong_httpx_client
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong, vcr_config
from tests.authflow import authorize_into
from tests.conftest import SECRET_LOOKING


def _calls(gong: FakeGong, store: MemoryTokenStore) -> list[int]:
    oauth = gong.oauth_client()
    statuses = []
    with gong_httpx_client(oauth, store, "acme") as client:
        statuses.append(client.get("/v2/users").status_code)
        gong.clock.advance(120)  # later, within the token's lifetime
        gong.invalidate_access_tokens("acme")  # a 401, a refresh, a resend
        response = client.get("/v2/calls", params={"fromDateTime": "2026-01-01T00:00:00Z"})
        statuses += [r.status_code for r in response.history] + [response.status_code]

    async def main() -> int:
        async with gong_async_client(oauth, store, "acme") as client:
            return (await client.get("/v2/users")).status_code

    statuses.append(asyncio.run(main()))
    return statuses


def test_httpx_traffic_is_recorded_scrubbed_and_replays(tmp_path: Path) -> None:
    cassette = tmp_path / "httpx.yaml"
    with FakeGong() as gong:
        gong.add_customer("acme")
        store = MemoryTokenStore()
        token = authorize_into(gong, store)
        oauth = gong.oauth_client()
        with vcr.VCR(**vcr_config()).use_cassette(str(cassette)) as recording:
            assert _calls(gong, store) == [200, 401, 200, 200]
        fresh = store.get("acme")
        assert fresh is not None
        secrets = {token.access_token, token.refresh_token, fresh.access_token}
        secrets |= {fresh.refresh_token, gong.client_secret}
    assert len(recording.data) == 5  # 4 API calls and the refresh
    text = cassette.read_text()
    assert [s for s in secrets if s in text] == []
    assert [p.pattern for p in SECRET_LOOKING if p.search(text)] == []
    assert "Bearer SCRUBBED-ACCESS-TOKEN-1" in text
    assert "Bearer SCRUBBED-ACCESS-TOKEN-2" in text  # the resend carried the refreshed token
    assert "refresh_token=SCRUBBED-REFRESH-TOKEN-1" in text

    # FakeGong is gone: only the cassette can answer now.
    replay = vcr.VCR(**{**vcr_config(), "record_mode": "none"})
    with replay.use_cassette(str(cassette)) as played:
        with gong_httpx_client(oauth, store, "acme") as client:
            assert client.get("/v2/users").status_code == 200

        async def main() -> int:
            async with gong_async_client(oauth, store, "acme") as client:
                return (await client.get("/v2/users")).status_code

        assert asyncio.run(main()) == 200
    assert played.play_count == 2
