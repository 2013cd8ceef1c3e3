"""The integration file as typed, immutable objects, and :func:`load_config` that builds them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gong_authlib.config.diagnostics import NodePath, has_errors
from gong_authlib.config.environments import merged_document, without_environments
from gong_authlib.config.interpolation import has_reference, referenced_names, resolve
from gong_authlib.config.rules import RuleContext, endpoint_findings, trusted_origin_findings
from gong_authlib.config.validate import check_document, read_document
from gong_authlib.config.yamlsource import YamlDocument
from gong_authlib.errors import ConfigError, Diagnostic
from gong_authlib.gong.endpoints import GONG_AUTHORIZE_URL, GONG_TOKEN_URL
from gong_authlib.secret import Secret

if TYPE_CHECKING:
    import requests

    from gong_authlib.clock import Clock
    from gong_authlib.oauth.client import GongOAuthClient
    from gong_authlib.oauth.state import StateStore
    from gong_authlib.stores.contracts import TokenStore


@dataclass(frozen=True, slots=True)
class Logos:
    small: Path
    large: Path


@dataclass(frozen=True, slots=True)
class Links:
    privacy_policy: str
    terms_and_conditions: str
    help_article: str
    authorization_start: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerOrigins:
    """Tenant sub-domain origins pushed per customer by ``gong-authlib origins apply``."""

    template: str
    integration_types: tuple[str, ...]
    overrides: Mapping[str, str]

    def origin_for(self, customer: str) -> str:
        return self.overrides.get(customer) or self.template.replace("{customer}", customer)


@dataclass(frozen=True, slots=True)
class IFrame:
    enabled: bool
    email_composer_url: str | None = None
    account_information_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    customer_origins: CustomerOrigins | None = None


@dataclass(frozen=True, slots=True)
class TrustedIps:
    """The addresses Gong accepts calls from, as written (addresses, CIDR blocks, ranges):
    ``access_token`` for API calls, ``refresh_token`` for token refreshes."""

    access_token: tuple[str, ...] = ()
    refresh_token: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Integration:
    name: str
    short_description: str
    description: str
    logos: Logos
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    links: Links
    contacts: tuple[str, ...]
    domains: tuple[str, ...]
    iframe: IFrame | None = None
    trusted_ips: TrustedIps | None = None


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    client_id: str
    client_secret: Secret
    validity_duration: int | None = None
    authorize_url: str = GONG_AUTHORIZE_URL
    token_url: str = GONG_TOKEN_URL
    trusted_api_origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenStoreSettings:
    # The URL may carry a password (redis://:pw@host), so it is kept as a Secret too.
    url: Secret
    encryption_keys: tuple[Secret, ...] = ()


@dataclass(frozen=True, slots=True)
class IntegrationConfig:
    """A validated integration file with its ``${env:…}`` references resolved."""

    path: Path
    integration: Integration
    oauth: OAuthSettings | None = None
    token_store: TokenStoreSettings | None = None

    def oauth_client(
        self,
        *,
        session: requests.Session | None = None,
        trusted_api_origins: tuple[str, ...] = (),
        clock: Clock | None = None,
        state_store: StateStore | None = None,
    ) -> GongOAuthClient:
        """A :class:`~gong_authlib.GongOAuthClient` for this integration's OAuth client.

        ``trusted_api_origins`` admits API base URLs outside ``*.gong.io`` (a local FakeGong),
        added to the file's ``oauth.trusted_api_origins``. ``state_store`` keeps issued
        states where every worker sees them: pass the app's TokenStore (see
        :meth:`open_store`) when callbacks may reach another process than the one that
        built the authorize URL.
        """
        if self.oauth is None:
            raise ConfigError(f"{self.path}: the integration file has no oauth section")
        from gong_authlib.clock import system_clock
        from gong_authlib.oauth.client import GongOAuthClient

        return GongOAuthClient(
            self.oauth.client_id,
            self.oauth.client_secret.reveal(),
            authorize_url=self.oauth.authorize_url,
            token_url=self.oauth.token_url,
            session=session,
            validity_duration=self.oauth.validity_duration,
            trusted_api_origins=(*self.oauth.trusted_api_origins, *trusted_api_origins),
            clock=clock or system_clock,
            state_store=state_store,
        )

    def open_store(self, url: str | None = None) -> TokenStore:
        """Open the file's ``token_store`` (or ``url`` instead) with the file's encryption keys.

        The caller owns it: close it (or use it as a context manager) when done.
        """
        settings = self.token_store
        target = url or (settings.url.reveal() if settings else None)
        if not target:
            raise ConfigError(
                f"{self.path}: no token store: the integration file has no token_store.url"
            )
        from gong_authlib.stores import open_store

        keys = [key.reveal() for key in settings.encryption_keys] if settings else []
        return open_store(target, encryption_keys=keys)


def _resolve_all(
    document: YamlDocument, environ: Mapping[str, str], sections: tuple[str, ...]
) -> tuple[dict[NodePath, str], list[Diagnostic]]:
    """Resolve references under ``sections`` (of oauth and token_store); unset variables
    become diagnostics."""
    resolved: dict[NodePath, str] = {}
    problems: list[Diagnostic] = []

    def visit(node: Any, path: NodePath) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, (*path, index))
        elif isinstance(node, str):
            missing = [name for name in referenced_names(node) if name not in environ]
            if missing:
                problems.extend(
                    document.diagnostic(
                        "env-unset", f"environment variable {name} is not set", path
                    )
                    for name in missing
                )
            else:
                resolved[path] = resolve(node, environ)

    data = document.data
    for section in sections:
        visit(data.get(section), (section,))
    return resolved, problems


def key_list(value: str) -> list[str]:
    """The Fernet keys in one value, newest first: ``${env:GONG_AUTHLIB_KEYS}`` may hold several,
    separated by commas or spaces, so dropping an old key edits one variable, not two entries.
    Fernet keys are url-safe base64, which holds neither."""
    return [key for key in re.split(r"[\s,]+", value) if key]


def _sqlite_relative_to(url: str, base_dir: Path) -> str:
    # sqlite:///relative/path is relative to the integration file, not the working directory,
    # so the same file works from any folder (pre-commit, CI, a service's WorkingDirectory).
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base_dir / url[len(prefix) :]).resolve())
    return url


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    env: str | None = None,
    oauth: bool = True,
    token_store: bool = True,
) -> IntegrationConfig:
    """Validate and load the integration file at ``path`` (as environment ``env``, if given).

    Raises :class:`~gong_authlib.ConfigError` carrying every diagnostic if the file has errors
    or a referenced environment variable is unset. Warnings do not prevent loading.

    ``oauth=False`` is for tools that only read the token store (listing customers, checking
    their health): the ``oauth`` section is still validated, but its ``${env:…}`` references
    (the client secret) are not resolved, so they need not be set, and ``config.oauth`` is
    None. ``token_store=False`` likewise, for tools that only call Gong's token endpoint
    (``credentials check``): ``config.token_store`` is then None.
    """
    file = Path(path)
    document = read_document(file)
    base_dir = file.resolve().parent
    diagnostics = check_document(document, base_dir=base_dir, environment=env)
    if has_errors(diagnostics):
        raise _config_error(file, diagnostics)
    document = merged_document(document, env) if env else without_environments(document)
    sections = tuple(
        name for name, wanted in (("oauth", oauth), ("token_store", token_store)) if wanted
    )
    resolved, problems = _resolve_all(
        document, os.environ if environ is None else environ, sections
    )
    problems += _resolved_url_problems(document, base_dir, resolved)
    if has_errors(problems):
        raise _config_error(file, problems)
    return _build(file, base_dir, document.data, resolved, with_oauth=oauth, with_store=token_store)


def _resolved_url_problems(
    document: YamlDocument, base_dir: Path, resolved: dict[NodePath, str]
) -> list[Diagnostic]:
    """OAuth endpoints and trusted API origins read from the environment get validate's
    checks on their value: validate saw only ``${env:…}``, and a wrong value would send the
    client secret or bearer tokens anywhere, in clear."""
    ctx = RuleContext(document, base_dir, ())
    problems: list[Diagnostic] = []
    for path, url in ctx.strings("oauth", "trusted_api_origins"):
        if has_reference(url) and path in resolved:
            problems.extend(trusted_origin_findings(ctx, path, resolved[path]))
    for key in ("authorize_url", "token_url"):
        url, path = ctx.get("oauth", key), ("oauth", key)
        if isinstance(url, str) and has_reference(url) and path in resolved:
            problems.extend(endpoint_findings(ctx, path, resolved[path]))
    return problems


def _config_error(file: Path, diagnostics: list[Diagnostic]) -> ConfigError:
    errors = [d for d in diagnostics if d.is_error]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{first.location()}: {first.code}: {first.message}{more}", diagnostics)


def _customer_origins(raw: dict[str, Any] | None) -> CustomerOrigins | None:
    if raw is None:
        return None
    return CustomerOrigins(
        template=raw["template"],
        integration_types=tuple(raw["integration_types"]),
        overrides=dict(raw.get("overrides", {})),
    )


def _trusted_ips(raw: dict[str, Any] | None) -> TrustedIps | None:
    if raw is None:
        return None
    return TrustedIps(
        access_token=tuple(raw.get("access_token", ())),
        refresh_token=tuple(raw.get("refresh_token", ())),
    )


def _build(
    file: Path,
    base_dir: Path,
    data: dict[str, Any],
    resolved: dict[NodePath, str],
    *,
    with_oauth: bool,
    with_store: bool = True,
) -> IntegrationConfig:
    spec = data["integration"]
    iframe = spec.get("iframe")
    integration = Integration(
        name=spec["name"],
        short_description=spec["short_description"],
        description=spec["description"],
        logos=Logos(base_dir / spec["logos"]["small"], base_dir / spec["logos"]["large"]),
        scopes=tuple(spec["scopes"]),
        redirect_uris=tuple(spec.get("redirect_uris", ())),
        links=Links(**spec["links"]),
        contacts=tuple(spec["contacts"]),
        domains=tuple(spec["domains"]),
        iframe=None
        if iframe is None
        else IFrame(
            enabled=iframe["enabled"],
            email_composer_url=iframe.get("email_composer_url"),
            account_information_url=iframe.get("account_information_url"),
            allowed_origins=tuple(iframe.get("allowed_origins", ())),
            customer_origins=_customer_origins(iframe.get("customer_origins")),
        ),
        trusted_ips=_trusted_ips(spec.get("trusted_ips")),
    )
    oauth = None
    if with_oauth and "oauth" in data:
        raw = data["oauth"]
        oauth = OAuthSettings(
            client_id=resolved[("oauth", "client_id")],
            client_secret=Secret(resolved[("oauth", "client_secret")]),
            validity_duration=raw.get("validity_duration"),
            authorize_url=resolved.get(("oauth", "authorize_url"), GONG_AUTHORIZE_URL),
            token_url=resolved.get(("oauth", "token_url"), GONG_TOKEN_URL),
            trusted_api_origins=tuple(
                resolved[("oauth", "trusted_api_origins", i)]
                for i in range(len(raw.get("trusted_api_origins", ())))
            ),
        )
    token_store = None
    if with_store and "token_store" in data:
        raw_keys = data["token_store"].get("encryption_key")
        key_paths: list[NodePath]
        if isinstance(raw_keys, list):
            key_paths = [("token_store", "encryption_key", i) for i in range(len(raw_keys))]
        else:
            key_paths = [("token_store", "encryption_key")] if raw_keys else []
        token_store = TokenStoreSettings(
            url=Secret(_sqlite_relative_to(resolved[("token_store", "url")], base_dir)),
            encryption_keys=tuple(Secret(k) for p in key_paths for k in key_list(resolved[p])),
        )
    return IntegrationConfig(file, integration, oauth, token_store)
