"""gong-authlib: Gong OAuth apps as code, and requests auth that keeps Gong tokens fresh.

Names are imported lazily (PEP 562) so that ``gong-authlib validate``, run by pre-commit on
every commit, loads only the config code: importing this package does not import requests,
authlib or any token store until one of their names is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gong_authlib.errors import (
    AuthorizationNotSaved,
    ClientCredentialsRejected,
    ConfigError,
    DailyQuotaExhausted,
    Diagnostic,
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
    WebhookRejected,
)
from gong_authlib.lazy import lazy_names

try:  # written by setuptools-scm from the git tag when the package is built or installed
    from gong_authlib._version import __version__
except ImportError:  # a source tree that was never built: no version to tell
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "AccessKey": "gong_authlib.tokens.access_key",
    "GongAccessKeyAuth": "gong_authlib.transport.requests.access_key_auth",
    "GongHttpxAccessKeyAuth": "gong_authlib.transport.httpx.access_key_auth",
    "CustomerToken": "gong_authlib.tokens.customer_token",
    "CustomerStatus": "gong_authlib.stores.status",
    "GongAuth": "gong_authlib.transport.requests.auth",
    "GongHttpxAuth": "gong_authlib.transport.httpx.auth",
    "GongOAuthClient": "gong_authlib.oauth.client",
    "GongSession": "gong_authlib.transport.requests.session",
    "MemoryTokenStore": "gong_authlib.stores.memory",
    "PostgresTokenStore": "gong_authlib.stores.postgres",
    "RateLimit": "gong_authlib.tokens.pacing",
    "RateLimiter": "gong_authlib.tokens.pacing",
    "RedisTokenStore": "gong_authlib.stores.redis",
    "SQLiteTokenStore": "gong_authlib.stores.sqlite",
    "TokenStore": "gong_authlib.stores.contracts",
    "gong_session": "gong_authlib.transport.requests.session",
    "gong_async_client": "gong_authlib.transport.httpx.client",
    "gong_httpx_client": "gong_authlib.transport.httpx.client",
    "open_store": "gong_authlib.stores.urls",
    "MemoryStateStore": "gong_authlib.oauth.state",
    "PendingAuthorization": "gong_authlib.oauth.state",
    "StateStore": "gong_authlib.oauth.state",
    "Token": "gong_authlib.token",
    "IntegrationConfig": "gong_authlib.config.model",
    "Secret": "gong_authlib.secret",
    "load_config": "gong_authlib.config.model",
    "validate_file": "gong_authlib.config.validate",
    "GongWebhook": "gong_authlib.webhooks.verify",
    "WebhookKey": "gong_authlib.stores.webhook_keys",
    "new_webhook_url_key": "gong_authlib.webhooks.url_keys",
    "verify_gong_webhook": "gong_authlib.webhooks.verify",
    "webhook_url_key_matches": "gong_authlib.webhooks.url_keys",
}

# optional dependency -> the extra that installs it
_EXTRAS = {"httpx": "httpx", "anyio": "httpx"}

if TYPE_CHECKING:
    from gong_authlib.config.model import IntegrationConfig, load_config
    from gong_authlib.config.validate import validate_file
    from gong_authlib.oauth.client import GongOAuthClient
    from gong_authlib.oauth.state import MemoryStateStore, PendingAuthorization, StateStore
    from gong_authlib.secret import Secret
    from gong_authlib.stores.contracts import TokenStore
    from gong_authlib.stores.memory import MemoryTokenStore
    from gong_authlib.stores.postgres import PostgresTokenStore
    from gong_authlib.stores.redis import RedisTokenStore
    from gong_authlib.stores.sqlite import SQLiteTokenStore
    from gong_authlib.stores.status import CustomerStatus
    from gong_authlib.stores.urls import open_store
    from gong_authlib.stores.webhook_keys import WebhookKey
    from gong_authlib.token import Token
    from gong_authlib.tokens.access_key import AccessKey
    from gong_authlib.tokens.customer_token import CustomerToken
    from gong_authlib.tokens.pacing import RateLimit, RateLimiter
    from gong_authlib.transport.httpx.access_key_auth import GongHttpxAccessKeyAuth
    from gong_authlib.transport.httpx.auth import GongHttpxAuth
    from gong_authlib.transport.httpx.client import gong_async_client, gong_httpx_client
    from gong_authlib.transport.requests.access_key_auth import GongAccessKeyAuth
    from gong_authlib.transport.requests.auth import GongAuth
    from gong_authlib.transport.requests.session import GongSession, gong_session
    from gong_authlib.webhooks.url_keys import new_webhook_url_key, webhook_url_key_matches
    from gong_authlib.webhooks.verify import GongWebhook, verify_gong_webhook

__all__ = [
    "AccessKey",
    "AuthorizationNotSaved",
    "ClientCredentialsRejected",
    "ConfigError",
    "CustomerStatus",
    "CustomerToken",
    "DailyQuotaExhausted",
    "Diagnostic",
    "GongAccessKeyAuth",
    "GongAuth",
    "GongAuthError",
    "GongHttpxAccessKeyAuth",
    "GongHttpxAuth",
    "GongOAuthClient",
    "GongSession",
    "GongWebhook",
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
    "WebhookKey",
    "WebhookRejected",
    "__version__",
    "gong_async_client",
    "gong_httpx_client",
    "gong_session",
    "load_config",
    "new_webhook_url_key",
    "open_store",
    "validate_file",
    "verify_gong_webhook",
    "webhook_url_key_matches",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY, extras=_EXTRAS)
