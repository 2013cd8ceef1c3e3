"""Base URLs and origins are read as urllib3 reads them: what is checked is where it connects."""

from __future__ import annotations

import pytest
from urllib3.util import parse_url

from gong_authlib.gong.hosts import is_gong_api_url
from gong_authlib.origins import BaseUrlError, normalize_origins, origin_of, parse_base_url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com\\@us-1.api.gong.io",
        "https://evil.com\\.api.gong.io",
        "https://user:pass@us-1.api.gong.io",
        "https://evil.com@us-1.api.gong.io",
        "https://us-1.api.gong.io/?next=1",
        "https://us-1.api.gong.io/#top",
        "https://us-1.api.gong.io\r\nX-Evil: 1",
        "http://us-1.api.gong.io",
        "https://api.gong.io.evil.com",
        "ftp://us-1.api.gong.io",
        "https://",
    ],
)
def test_hostile_base_urls_are_not_gong(url: str) -> None:
    assert not is_gong_api_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://us-49467.api.gong.io",
        "https://eu-2086.api.gong.io/",
        "https://COMPANY-17.api.gong.io:443",
        "https://gong.io",
    ],
)
def test_gong_base_urls_pass(url: str) -> None:
    assert is_gong_api_url(url)


def test_origin_is_what_urllib3_connects_to() -> None:
    url = "https://evil.com\\@us-1.api.gong.io/v2/users"
    assert parse_url(url).host == "evil.com"
    assert origin_of(url) == "https://evil.com"
    assert origin_of("HTTPS://US-1.api.gong.io:443/x") == "https://us-1.api.gong.io"
    assert origin_of("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert origin_of("https://[::1]:8443") == "https://[::1]:8443"


def test_trusted_origins_admit_loopback_but_keep_the_rules() -> None:
    trusted = normalize_origins(["http://127.0.0.1:8080/"])
    assert is_gong_api_url("http://127.0.0.1:8080", trusted)
    assert not is_gong_api_url("http://127.0.0.1:8081", trusted)
    assert not is_gong_api_url("http://u@127.0.0.1:8080", trusted)


def test_parse_base_url_says_why_without_echoing() -> None:
    with pytest.raises(BaseUrlError, match="backslash") as caught:
        parse_base_url("https://secret-looking\\@x.api.gong.io")
    assert "secret-looking" not in str(caught.value)
    with pytest.raises(BaseUrlError, match="user name"):
        parse_base_url("https://a:b@x.api.gong.io")
    with pytest.raises(BaseUrlError, match="query"):
        parse_base_url("https://x.api.gong.io?a")
    with pytest.raises(BaseUrlError, match="fragment"):
        parse_base_url("https://x.api.gong.io#a")
    assert parse_base_url("https://x.api.gong.io/") == "https://x.api.gong.io"


def test_a_malformed_trusted_origin_says_which() -> None:
    with pytest.raises(BaseUrlError, match=r"trusted_api_origins\[1\]: .*user name"):
        normalize_origins(["http://127.0.0.1:1", "http://u:p@127.0.0.1:2"])
