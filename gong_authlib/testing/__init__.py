"""Test helpers for apps built on gong-authlib, and for gong-authlib itself.

- :class:`FakeGong`: Gong's OAuth endpoints and a per-customer API on 127.0.0.1.
- :class:`FakeClock`: time that moves when a test says so; :class:`LiveClock`: real time
  that a test can still move forward.
- ``fake_gong``: a pytest fixture (registered through the ``pytest11`` entry point).
- :func:`vcr_config`: vcrpy settings that scrub every secret from cassettes.
"""

from gong_authlib.testing.clock import FakeClock, LiveClock
from gong_authlib.testing.emulator import Fault, Stats
from gong_authlib.testing.server import FakeGong
from gong_authlib.testing.vcr import SecretScrubber, vcr_config

__all__ = [
    "FakeClock",
    "FakeGong",
    "Fault",
    "LiveClock",
    "SecretScrubber",
    "Stats",
    "vcr_config",
]
