"""gong-authlib: Gong OAuth apps as code, and requests auth that keeps Gong tokens fresh.

Names are imported lazily (PEP 562) so that ``gong-authlib validate``, run by pre-commit on
every commit, loads only the config code: importing this package does not import requests,
authlib or any token store until one of their names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gong_authlib.errors import (
    AuthorizationNotSaved,
    ConfigError,
    DailyQuotaExhausted,
    GongAuthError,
    OAuthError,
    OriginMismatch,
    RateLimitExceeded,
    ReauthorizationRequired,
    RequestNotReplayable,
    StateError,
    TokenEndpointError,
    TokenNotFound,
    TokenStoreError,
)

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "CustomerToken": "gong_authlib.core",
    "CustomerStatus": "gong_authlib.stores",
    "Diagnostic": "gong_authlib.config.diagnostics",
    "GongAuth": "gong_authlib.auth",
    "GongHttpxAuth": "gong_authlib.httpx_auth",
    "GongOAuthClient": "gong_authlib.oauth",
    "GongSession": "gong_authlib.session",
    "MemoryTokenStore": "gong_authlib.stores",
    "PostgresTokenStore": "gong_authlib.stores",
    "RateLimit": "gong_authlib.stores.ratelimit",
    "RateLimiter": "gong_authlib.stores.ratelimit",
    "RedisTokenStore": "gong_authlib.stores",
    "SQLiteTokenStore": "gong_authlib.stores",
    "TokenStore": "gong_authlib.stores",
    "gong_session": "gong_authlib.session",
    "gong_async_client": "gong_authlib.httpx_client",
    "gong_httpx_client": "gong_authlib.httpx_client",
    "open_store": "gong_authlib.stores",
    "MemoryStateStore": "gong_authlib.state",
    "PendingAuthorization": "gong_authlib.state",
    "StateStore": "gong_authlib.state",
    "Token": "gong_authlib.token",
    "IntegrationConfig": "gong_authlib.config.model",
    "Secret": "gong_authlib.secret",
    "load_config": "gong_authlib.config.model",
    "validate_file": "gong_authlib.config.validate",
}

# optional dependency -> the extra that installs it
_EXTRAS = {"httpx": "httpx", "anyio": "httpx"}

if TYPE_CHECKING:
    from gong_authlib.auth import GongAuth
    from gong_authlib.config.diagnostics import Diagnostic
    from gong_authlib.config.model import IntegrationConfig, load_config
    from gong_authlib.config.validate import validate_file
    from gong_authlib.core import CustomerToken
    from gong_authlib.httpx_auth import GongHttpxAuth
    from gong_authlib.httpx_client import gong_async_client, gong_httpx_client
    from gong_authlib.oauth import GongOAuthClient
    from gong_authlib.secret import Secret
    from gong_authlib.session import GongSession, gong_session
    from gong_authlib.state import MemoryStateStore, PendingAuthorization, StateStore
    from gong_authlib.stores import (
        CustomerStatus,
        MemoryTokenStore,
        PostgresTokenStore,
        RedisTokenStore,
        SQLiteTokenStore,
        TokenStore,
        open_store,
    )
    from gong_authlib.stores.ratelimit import RateLimit, RateLimiter
    from gong_authlib.token import Token

__all__ = [
    "AuthorizationNotSaved",
    "ConfigError",
    "CustomerStatus",
    "CustomerToken",
    "DailyQuotaExhausted",
    "Diagnostic",
    "GongAuth",
    "GongAuthError",
    "GongHttpxAuth",
    "GongOAuthClient",
    "GongSession",
    "IntegrationConfig",
    "MemoryStateStore",
    "MemoryTokenStore",
    "OAuthError",
    "OriginMismatch",
    "PendingAuthorization",
    "PostgresTokenStore",
    "RateLimit",
    "RateLimitExceeded",
    "RateLimiter",
    "ReauthorizationRequired",
    "RedisTokenStore",
    "RequestNotReplayable",
    "SQLiteTokenStore",
    "Secret",
    "StateError",
    "StateStore",
    "Token",
    "TokenEndpointError",
    "TokenNotFound",
    "TokenStore",
    "TokenStoreError",
    "__version__",
    "gong_async_client",
    "gong_httpx_client",
    "gong_session",
    "load_config",
    "open_store",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gong_authlib' has no attribute {name!r}")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as error:
        extra = _EXTRAS.get(error.name or "")
        if extra is None:
            raise
        raise ModuleNotFoundError(
            f"{name} needs {error.name}: pip install 'gong-authlib[{extra}]'", name=error.name
        ) from error
    value = getattr(imported, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
