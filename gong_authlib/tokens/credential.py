"""Which credential a front end was given, without loading the access-key module to ask.

``gong_session`` and the httpx factories take an OAuth client or a company's AccessKey. An
object cannot be an instance of a class whose module was never imported, so the check reads
``sys.modules`` rather than importing :mod:`gong_authlib.tokens.access_key` (and its
dataclass) on every cold start that only uses OAuth (issue 24).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from gong_authlib.tokens.access_key import AccessKey


def is_access_key(credential: object) -> TypeIs[AccessKey]:
    """``isinstance(credential, AccessKey)``, paying nothing when no key was ever built."""
    module = sys.modules.get("gong_authlib.tokens.access_key")
    return module is not None and isinstance(credential, module.AccessKey)
