"""pytest plugin: the ``fake_gong`` fixture, available wherever gong-authlib is installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gong_authlib.testing.server import FakeGong


@pytest.fixture
def fake_gong() -> Iterator[FakeGong]:
    """A started FakeGong with one customer, ``acme``; stopped after the test."""
    with FakeGong() as gong:
        gong.add_customer("acme")
        yield gong
