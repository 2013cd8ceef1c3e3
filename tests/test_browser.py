"""A person's path: headless Chromium clicks Approve on FakeGong's consent page while
`gong-authlib authorize` waits on its loopback callback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.browser import chromium
from tests.cliflow import free_port, make_world, shown_start_url
from tests.services import require_programs

pytestmark = pytest.mark.slow


def test_authorize_with_a_real_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_programs("chromium", "chromedriver")  # before any process is started
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri], auto_approve=False) as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        world = make_world(gong, tmp_path, redirect_uri)
        process = world.popen(*world.args("authorize", "--customer", "globex", "--no-browser"))
        start_url = shown_start_url(process.stderr)
        with chromium(tmp_path, monkeypatch) as driver:
            driver.get(start_url)  # redirected on to Gong, with the flow's cookie
            assert "Authorize app" in driver.title
            company = driver.find_element(By.NAME, "company")
            company.find_element(By.CSS_SELECTOR, "option[value='globex']").click()
            driver.find_element(By.ID, "approve").click()
            WebDriverWait(driver, 20).until(
                expected_conditions.text_to_be_present_in_element((By.ID, "result"), "Authorized")
            )
            assert driver.current_url.startswith(redirect_uri)
            assert "You can close this window." in driver.page_source
            (cookie,) = driver.get_cookies()  # the nonce the callback had to bring back
            assert cookie["name"] == f"gong_authlib_cli_{urlsplit(redirect_uri).port}"
            assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
                True,
                "Lax",
                "/callback",
            )
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Authorized customer globex." in out
        token = SQLiteTokenStore(tmp_path / "tokens.db").get("globex")
        assert token is not None
        assert token.api_base_url == gong.emulator.customer_origins["globex"]
