"""Gong's published limits: how long a code lives and how fast a company may call.

Sources: Gong's "Create an OAuth app for Gong" page (the code is valid for 10 minutes) and its
API introduction (3 calls a second and 10,000 a day per company, whatever the credential).
"""

from __future__ import annotations

# An authorization code expires 10 minutes after Gong issues it; an OAuth state lives as long.
CODE_LIFETIME_SECONDS = 600
# A company's API budget. Over it Gong answers 429 with Retry-After.
CALLS_PER_SECOND = 3.0
CALLS_PER_DAY = 10_000
# The window CALLS_PER_DAY counts over, in seconds.
DAY = 86_400.0
