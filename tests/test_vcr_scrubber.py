"""The cassette scrubber on shapes beyond Gong's own top-level JSON: nested JSON, lists,
form bodies, Location fragments, other spellings, and secrets echoed elsewhere."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from vcr.request import Request

from gong_authlib.testing import SecretScrubber
from tests.conftest import SECRET_LOOKING

ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlLWJ5dGVz"
REFRESH = "gongfake-rt-0123456789abcdef"
CODE = "gongfake-code-0123456789abcdef"
SECRETS = (ACCESS, REFRESH, CODE)


def _response(body: str | bytes, **headers: str) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {name.replace("_", "-"): [value] for name, value in headers.items()},
        "body": {"string": raw},
    }


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert not any(p.search(text) for p in SECRET_LOOKING), text


def _body(recorded: dict[str, Any]) -> str:
    raw = recorded["body"]["string"]
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def test_nested_json_and_lists() -> None:
    scrubber = SecretScrubber()
    body = json.dumps(
        {
            "data": {"access_token": ACCESS, "deeper": [{"Refresh_Token": REFRESH}]},
            "tokens": [{"ACCESS_TOKEN": ACCESS}],
        }
    )
    cleaned = _body(scrubber.response(_response(body, Content_Length=str(len(body)))))
    _clean(cleaned)
    data = json.loads(cleaned)
    assert data["data"]["access_token"] == data["tokens"][0]["ACCESS_TOKEN"]
    assert data["data"]["deeper"][0]["Refresh_Token"].startswith("SCRUBBED-REFRESH-TOKEN-")


def test_a_json_list_at_the_top() -> None:
    scrubber = SecretScrubber()
    body = json.dumps([{"access_token": ACCESS}, {"refresh_token": REFRESH}])
    _clean(_body(scrubber.response(_response(body))))


def test_form_encoded_token_answer_and_request() -> None:
    scrubber = SecretScrubber()
    body = f"access_token={ACCESS}&Refresh_Token={REFRESH}&expires_in=3600"
    recorded = scrubber.response(_response(body, Content_Type="application/x-www-form-urlencoded"))
    cleaned = _body(recorded)
    _clean(cleaned)
    assert "expires_in=3600" in cleaned
    request = Request("POST", "https://app.gong.io/oauth2/token", f"CODE={CODE}&x=1", {})
    _clean(str(scrubber.request(request).body))


def test_location_header_with_a_fragment() -> None:
    scrubber = SecretScrubber()
    location = f"https://app.acme.example/cb?code={CODE}#access_token={ACCESS}&state=xyz"
    recorded = scrubber.response({**_response(""), "headers": {"Location": [location]}})
    [cleaned] = recorded["headers"]["Location"]
    _clean(cleaned)
    assert cleaned.startswith("https://app.acme.example/cb?code=SCRUBBED-CODE-")


def test_query_names_in_any_case() -> None:
    scrubber = SecretScrubber()
    request = Request("POST", f"https://app.gong.io/t?Refresh_Token={REFRESH}", None, {})
    _clean(scrubber.request(request).uri)


def test_a_secret_echoed_elsewhere_is_scrubbed_too() -> None:
    scrubber = SecretScrubber()
    request = Request("POST", f"https://app.gong.io/t?refresh_token={REFRESH}", None, {})
    scrubber.request(request)
    body = json.dumps(
        {"error": "invalid_grant", "error_description": f"refresh token {REFRESH} was used"}
    )
    recorded = scrubber.response(_response(body, X_Debug=f"token={REFRESH}"))
    _clean(_body(recorded))
    _clean(json.dumps(recorded["headers"]))
    html = f"<html><p>bad code {CODE}</p></html>"
    scrubber.request(Request("POST", f"https://app.gong.io/t?code={CODE}", None, {}))
    _clean(_body(scrubber.response(_response(html))))


def test_content_length_follows_the_scrubbed_body() -> None:
    scrubber = SecretScrubber()
    body = json.dumps({"data": {"access_token": ACCESS}})
    recorded = scrubber.response(_response(body, Content_Length=str(len(body))))
    assert recorded["headers"]["Content-Length"] == [str(len(recorded["body"]["string"]))]


CLIENT_SECRET = "fakegong-secret-0123456789abcdef"


def test_the_client_secret_of_a_basic_header_is_scrubbed_where_it_reappears() -> None:
    # The header itself is replaced; the secret it carried must be known for the second pass.
    scrubber = SecretScrubber()
    credentials = base64.b64encode(f"client-id:{quote(CLIENT_SECRET)}".encode()).decode()
    request = Request(
        "POST",
        "https://app.gong.io/oauth2/generate-customer-token?grant_type=authorization_code",
        b"",
        {"Authorization": f"Basic {credentials}"},
    )
    assert scrubber.request(request).headers["Authorization"] == "Basic SCRUBBED-CLIENT-CREDENTIALS"
    body = json.dumps({"error": "invalid_client", "error_description": f"bad {CLIENT_SECRET}"})
    cleaned = _body(scrubber.response(_response(body)))
    assert CLIENT_SECRET not in cleaned
    assert "SCRUBBED-CLIENT-SECRET-1" in cleaned


def test_json_inside_a_json_string() -> None:
    scrubber = SecretScrubber()
    body = json.dumps({"payload": json.dumps({"data": {"refresh_token": REFRESH}})})
    cleaned = _body(scrubber.response(_response(body)))
    _clean(cleaned)
    inner = json.loads(json.loads(cleaned)["payload"])
    assert inner["data"]["refresh_token"] == "SCRUBBED-REFRESH-TOKEN-1"


def test_a_secret_echoed_with_json_escaped_slashes() -> None:
    # PHP and some gateways write "/" as "\/" in JSON; a secret with a slash then reappears so.
    scrubber = SecretScrubber()
    slashed = "gongfake-rt-0123/456789abcdef"
    scrubber.response(_response(json.dumps({"refresh_token": slashed})))
    page = '<script>var t = "' + slashed.replace("/", "\\/") + '";</script>'
    cleaned = _body(scrubber.response(_response(page, Content_Type="text/html")))
    assert "gongfake-rt-0123" not in cleaned
    assert "SCRUBBED-REFRESH-TOKEN-1" in cleaned


def test_json_nested_past_the_recursion_limit_is_recorded_as_is() -> None:
    body = "[" * 100_000 + "]" * 100_000
    assert _body(SecretScrubber().response(_response(body))) == body


API_KEY_SECRET = "apikey-secret-0123456789abcdef"


def test_a_company_api_keys_basic_credentials_are_scrubbed_where_they_reappear() -> None:
    scrubber = SecretScrubber()
    credentials = base64.b64encode(f"AKEY123:{API_KEY_SECRET}".encode()).decode()
    request = Request(
        "GET", "https://us-1.api.gong.io/v2/users", b"", {"Authorization": f"Basic {credentials}"}
    )
    recorded = scrubber.request(request)
    assert recorded.headers["Authorization"] == "Basic SCRUBBED-API-KEY-CREDENTIALS"
    assert credentials not in str(recorded.headers)
    body = json.dumps({"requestId": "r1", "errors": [f"bad key secret {API_KEY_SECRET}"]})
    cleaned = _body(scrubber.response(_response(body, Www_Authenticate=API_KEY_SECRET)))
    assert API_KEY_SECRET not in cleaned
    assert "SCRUBBED-API-KEY-SECRET-1" in cleaned


def test_basic_credentials_echoed_whole_are_scrubbed_too() -> None:
    # A gateway's error page that quotes the Authorization header back: the base64 blob
    # decodes to the secret, so it is a secret wherever it reappears.
    for path, kind in (("/v2/users", "API-KEY"), ("/oauth2/generate-customer-token", "CLIENT")):
        scrubber = SecretScrubber()
        credentials = base64.b64encode(f"AKEY123:{API_KEY_SECRET}".encode()).decode()
        request = Request(
            "GET", f"https://us-1.api.gong.io{path}", b"", {"Authorization": f"Basic {credentials}"}
        )
        scrubber.request(request)
        body = json.dumps({"errors": [f"refused Authorization: Basic {credentials}"]})
        recorded = scrubber.response(_response(body, X_Echo=f"Basic {credentials}"))
        cleaned = _body(recorded) + str(recorded["headers"])
        assert credentials not in cleaned
        assert f"SCRUBBED-{kind}-CREDENTIALS-1" in cleaned
