"""Headless Chromium driven by Selenium, offline: the one way the tests open a real browser."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.services import require_programs


@contextmanager
def chromium(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Chromium with its own profile under ``folder``; quit afterwards."""
    programs = require_programs("chromium", "chromedriver")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    # Selenium's wire log prints page URLs, and the callback's URL carries the code.
    monkeypatch.setattr(logging.getLogger("selenium"), "level", logging.WARNING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = programs["chromium"]
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp(dir=folder)}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=programs["chromedriver"]), options=options
    )
    try:
        yield driver
    finally:
        driver.quit()
