"""Done-when of the web flow: real apps under real multi-worker servers against
`gong-authlib fakegong` on fixed ports. Headless Chromium connects three customers through
FakeGong's consent page in a Flask app under gunicorn (4 workers, each replaced after every
request, so no state can live in a worker) and a FastAPI app under uvicorn (2 workers), with an
SQLite store; a forged state, a replayed callback and a callback in another browser are each
refused with a clear page. The multi-worker part is repeated over Redis and PostgreSQL with
requests and cookies standing in for the browser."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.stores import SQLiteTokenStore
from tests.browser import chromium
from tests.servers import PostgresServer, RedisServer
from tests.webflow import COMPANIES, WebWorld, running_app, running_fakegong

pytestmark = pytest.mark.slow

APPS = ("flask", "fastapi")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    protect_third_party_loggers()  # our own requests below carry codes in their URLs
    built = WebWorld(tmp_path)
    built.write_config()
    with running_fakegong(built):
        yield built


def without_cookies(url: str) -> requests.Response:
    """The callback opened in another browser: same URL, none of the first one's cookies."""
    return requests.get(url, timeout=30)


def forge(callback: str) -> str:
    return callback.replace("state=", "state=forged")


def assert_refused(page: str, reason: str) -> None:
    assert "Connection refused" in page
    assert reason in page
    assert "code=" not in page


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(tmp_path, monkeypatch) as driver:
        yield driver


def test_browser_connects_three_customers_through_many_workers(
    world: WebWorld, browser: Any
) -> None:
    chromium = browser
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def heading() -> str:
        return str(chromium.find_element(By.TAG_NAME, "h1").text)

    def connect_in_browser(app_url: str, company: str) -> str:
        chromium.get(f"{app_url}/connect/{company}")
        assert "Authorize app" in chromium.title  # FakeGong's consent page
        select = chromium.find_element(By.NAME, "company")
        select.find_element(By.CSS_SELECTOR, f"option[value='{company}']").click()
        chromium.find_element(By.ID, "approve").click()
        WebDriverWait(chromium, 20).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "message"), company)
        )
        assert heading() == "Gong connected", chromium.page_source
        assert f"Customer {company} is connected to Gong." in chromium.page_source
        return str(chromium.current_url)

    for app in APPS:
        with running_app(world, app, recycle=True) as app_url:
            callbacks = {company: connect_in_browser(app_url, company) for company in COMPANIES}
            with SQLiteTokenStore(world.folder / "tokens.db") as store:
                for company in COMPANIES:
                    token = store.get(company)
                    assert token is not None, (app, company)
                    assert token.api_base_url == world.origin(company)  # its own company's

            # A replayed callback, in the very browser that finished it.
            chromium.get(callbacks["globex"])
            assert heading() == "Connection refused"
            assert_refused(chromium.page_source, "already used")

            # A forged state.
            chromium.get(forge(callbacks["acme"]))
            assert_refused(chromium.page_source, "not issued here")

            # A callback finished in another browser: approved here, opened without the cookie.
            chromium.get(f"{app_url}/connect/initech")
            authorize_url = str(chromium.current_url)
            query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
            approved = requests.post(
                world.announced["authorize_url"],
                data={**query, "decision": "approve", "company": "initech"},
                allow_redirects=False,
                timeout=30,
            )
            callback = approved.headers["Location"]
            other = without_cookies(callback)
            assert other.status_code == 400
            assert_refused(other.text, "did not start this authorization")
            chromium.get(callback)  # the refusal burnt nothing: the right browser finishes
            assert heading() == "Gong connected"

            # The app's own hook: this user may not connect that customer.
            chromium.get(f"{app_url}/connect/umbrella")
            assert heading() == "Not allowed"


def connect_with_cookies(app_url: str, world: WebWorld, company: str) -> str:
    """The browser's path with requests: a session keeps the app's cookie."""
    browser = requests.Session()
    started = browser.get(f"{app_url}/connect/{company}", allow_redirects=False, timeout=30)
    assert started.status_code == 302
    authorize_url = started.headers["Location"]
    assert requests.get(authorize_url, timeout=30).status_code == 200  # the consent page
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    approved = requests.post(
        world.announced["authorize_url"],
        data={**query, "decision": "approve", "company": company},
        allow_redirects=False,
        timeout=30,
    )
    callback = approved.headers["Location"]
    assert without_cookies(callback).status_code == 400  # another browser: refused
    done = browser.get(callback, timeout=30)
    assert done.status_code == 200, done.text
    assert f"Customer {company} is connected to Gong." in done.text
    replay = browser.get(callback, timeout=30)
    assert replay.status_code == 400
    assert_refused(replay.text, "already used")
    forged = browser.get(forge(callback), timeout=30)
    assert_refused(forged.text, "not issued here")
    return callback


def store_url(kind: str, request: pytest.FixtureRequest) -> str:
    unique = uuid.uuid4().hex[:8]
    if kind == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        return f"redis://127.0.0.1:{redis.port}/{int(unique, 16) % 60 + 2}"
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    import psycopg

    with psycopg.connect(postgres.dsn(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE e2e_{unique}")
    return postgres.dsn(f"e2e_{unique}")


@pytest.mark.parametrize("kind", ["redis", "postgres"])
def test_many_workers_share_states_through_redis_and_postgres(
    world: WebWorld, kind: str, request: pytest.FixtureRequest
) -> None:
    url = store_url(kind, request)
    for app in APPS:
        with running_app(world, app, store_url=url) as app_url:
            for company in COMPANIES:
                connect_with_cookies(app_url, world, company)
    from gong_authlib.stores import open_store

    with open_store(url) as store:
        assert store.customers() == sorted(COMPANIES)
        for company in COMPANIES:
            token = store.get(company)
            assert token is not None
            assert token.api_base_url == world.origin(company)
