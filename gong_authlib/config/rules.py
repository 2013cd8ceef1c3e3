"""Gong-aware checks the JSON Schema cannot express.

Each rule reads the plain data (skipping values of the wrong type: the schema reports those)
and yields diagnostics with a stable code; every code and what it means is listed once, in
:data:`gong_authlib.config.diagnostics.DIAGNOSTIC_CODES`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from gong_authlib.config.diagnostics import MAX_SUGGESTIONS, NodePath, quoted
from gong_authlib.config.interpolation import (
    INTERPOLATED_SECTIONS,
    REFERENCE,
    has_reference,
    malformed_reference,
)
from gong_authlib.config.scope_policy import judge_scope
from gong_authlib.config.trusted_ips import check_trusted_ips
from gong_authlib.config.yamlsource import YamlDocument
from gong_authlib.errors import Diagnostic
from gong_authlib.gong.endpoints import GONG_API_DOMAIN
from gong_authlib.gong.hosts import is_gong_api_url
from gong_authlib.gong.scopes import KNOWN_SCOPES
from gong_authlib.origins import LOOPBACK_HOSTS
from gong_authlib.safe_text import first_control

_SAMPLE_CUSTOMER = "gongauthlibsamplecustomer"
_EMAIL = re.compile(r"^[^@\s,;<>()]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$")
_IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
)

# Enough to recognise every image signature, and all that is ever read of a logo.
_LOGO_HEAD_BYTES = 512

Rule = Callable[["RuleContext"], Iterator[Diagnostic]]


class RuleContext:
    """What a rule may look at: the document, its folder and the scopes accepted as known."""

    def __init__(
        self,
        document: YamlDocument,
        base_dir: Path,
        extra_scopes: Collection[str],
        *,
        strict_scopes: bool = False,
    ) -> None:
        self.document = document
        self.data: dict[str, Any] = document.data if isinstance(document.data, dict) else {}
        self.base_dir = base_dir
        self.extra_scopes = frozenset(extra_scopes)
        self.strict_scopes = strict_scopes

    def get(self, *path: str) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def strings(self, *path: str) -> Iterator[tuple[NodePath, str]]:
        """Each text item of the list at ``path``, with its own path."""
        items = self.get(*path)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, str):
                    yield (*path, index), item

    def error(self, code: str, message: str, path: NodePath, **kwargs: Any) -> Diagnostic:
        return self.document.diagnostic(code, message, path, **kwargs)

    def warning(self, code: str, message: str, path: NodePath, **kwargs: Any) -> Diagnostic:
        return self.document.diagnostic(code, message, path, severity="warning", **kwargs)


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def _url_fields(ctx: RuleContext) -> Iterator[tuple[NodePath, str, str]]:
    """(path, url, kind) for every URL in the integration, kind naming its rules."""
    links = ctx.get("integration", "links")
    if isinstance(links, dict):
        for key, value in links.items():
            if isinstance(value, str):
                yield ("integration", "links", key), value, "link"
    iframe = ctx.get("integration", "iframe")
    if isinstance(iframe, dict):
        for key in ("email_composer_url", "account_information_url"):
            value = iframe.get(key)
            if isinstance(value, str):
                yield ("integration", "iframe", key), value, "link"
    for path, value in ctx.strings("integration", "iframe", "allowed_origins"):
        yield path, value, "origin"
    for path, value in ctx.strings("integration", "redirect_uris"):
        yield path, value, "redirect"
    yield from _customer_origin_fields(ctx)


def _customer_origin_fields(ctx: RuleContext) -> Iterator[tuple[NodePath, str, str]]:
    customer_origins = ctx.get("integration", "iframe", "customer_origins")
    if isinstance(customer_origins, dict):
        template = customer_origins.get("template")
        if isinstance(template, str) and "{customer}" in template:
            # Checked as the origin a customer would get; messages show the template again.
            sample = template.replace("{customer}", _SAMPLE_CUSTOMER)
            yield ("integration", "iframe", "customer_origins", "template"), sample, "origin"
        overrides = customer_origins.get("overrides")
        if isinstance(overrides, dict):
            for name, value in overrides.items():
                if isinstance(value, str):
                    path = ("integration", "iframe", "customer_origins", "overrides", name)
                    yield path, value, "origin"


def check_scopes(ctx: RuleContext) -> Iterator[Diagnostic]:
    known = frozenset(KNOWN_SCOPES) | ctx.extra_scopes
    seen: dict[str, int] = {}
    suggestions_left = MAX_SUGGESTIONS
    for path, scope in ctx.strings("integration", "scopes"):
        if scope in seen:
            yield ctx.error(
                "duplicate-scope",
                f"scope {quoted(scope)} is already listed at scopes[{seen[scope]}]",
                path,
            )
            continue
        seen[scope] = int(path[-1])
        # Typos are always told apart (a bounded, cached comparison); the looser search for a
        # hint on a new scope is made for the first MAX_SUGGESTIONS findings only.
        verdict = judge_scope(scope, known, hint=suggestions_left > 0)
        if verdict.kind != "known":
            suggestions_left -= 1
            yield _scope_finding(ctx, path, scope, verdict.kind, verdict.suggestion)


_IF_NEW = "if Gong added it after this release, list it under validation.extra_scopes"


def _scope_finding(
    ctx: RuleContext, path: NodePath, scope: str, kind: str, suggestion: str | None
) -> Diagnostic:
    hint = f"; did you mean {quoted(suggestion)}?" if suggestion else ""
    if kind == "typo":  # a near miss of a known scope: the fix is the spelling, not a new scope
        message = f"scope {quoted(scope)} is not a Gong scope{hint}"
        return ctx.error("scope-typo", message, path, suggestion=suggestion)
    if kind == "malformed":
        message = f"{quoted(scope)} is not a Gong scope (they read api:<resource>:<verb>){hint}"
        return ctx.error("unknown-scope", message, path, suggestion=suggestion)
    message = f"scope {quoted(scope)} is unknown to this release{hint} ({_IF_NEW})"
    if ctx.strict_scopes:
        strict = f"{message}; strict_scopes is on"
        return ctx.error("unknown-scope", strict, path, suggestion=suggestion)
    return ctx.warning("unknown-scope", message, path, suggestion=suggestion)


def check_duplicates(ctx: RuleContext) -> Iterator[Diagnostic]:
    lists = (
        ("integration", "redirect_uris"),
        ("integration", "contacts"),
        ("integration", "domains"),
        ("integration", "iframe", "allowed_origins"),
    )
    for list_path in lists:
        seen: dict[str, int] = {}
        for path, value in ctx.strings(*list_path):
            normal = value.lower().rstrip("/")
            if normal in seen:
                yield ctx.error(
                    "duplicate-item",
                    f"{quoted(value)} is already listed at {list_path[-1]}[{seen[normal]}]",
                    path,
                )
            else:
                seen[normal] = int(path[-1])


def check_urls(ctx: RuleContext) -> Iterator[Diagnostic]:
    for path, url, kind in _url_fields(ctx):
        parts = _split(url)
        if parts is None:
            yield ctx.error(
                "invalid-url", f"{quoted(url)} is not an absolute http(s) URL with a host", path
            )
            continue
        loopback = parts.hostname in LOOPBACK_HOSTS
        if parts.scheme == "http" and not (kind == "redirect" and loopback):
            allowed = " (http is allowed only for loopback redirect URIs)"
            yield ctx.error("insecure-url", f"{quoted(url)} must use https{allowed}", path)
        if kind == "redirect" and parts.scheme == "http" and parts.hostname == "localhost":
            port = f":{parts.port}" if parts.port else ""
            literal = parts._replace(netloc=f"127.0.0.1{port}").geturl()
            yield ctx.warning(
                "localhost-redirect",
                f"redirect URI {quoted(url)} names localhost: browsers may try ::1 first, where "
                "another local user can listen and finish the authorization with their own "
                f"Gong company; register {quoted(literal)} instead (RFC 8252, 8.3)",
                path,
            )
        if kind == "redirect" and parts.fragment:
            yield ctx.error(
                "redirect-uri-fragment",
                f"redirect URI {quoted(url)} must not contain a #fragment (RFC 6749, 3.1.2)",
                path,
            )
        if kind == "origin":
            yield from _check_origin(ctx, path, url, parts)


def _check_origin(
    ctx: RuleContext, path: NodePath, url: str, parts: SplitResult
) -> Iterator[Diagnostic]:
    problems = []
    if parts.path not in ("", "/"):
        problems.append("a path")
    if parts.query:
        problems.append("a query")
    if parts.fragment:
        problems.append("a fragment")
    if parts.username or parts.password:
        problems.append("user info")
    if "*" in url:
        problems.append("a wildcard (use `gong-authlib origins apply` for dynamic sub-domains)")
    if problems:
        bare = None if "*" in url else f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        if bare:
            bare = bare.replace(_SAMPLE_CUSTOMER, "{customer}")
        fix = f"; write it as {quoted(bare)}" if bare else ""
        shown = url.replace(_SAMPLE_CUSTOMER, "{customer}")
        yield ctx.error(
            "origin-not-bare",
            f"allowed origin {quoted(shown)} has {', '.join(problems)}{fix}",
            path,
            suggestion=bare,
        )


def check_trusted_api_origins(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``oauth.trusted_api_origins`` admit hosts outside *.gong.io for bearer tokens: meant
    for a FakeGong on loopback. Anything else sends customers' tokens somewhere Gong is not."""
    for path, url in ctx.strings("oauth", "trusted_api_origins"):
        if has_reference(url):
            continue  # known only when loaded: load_config checks the value
        yield from trusted_origin_findings(ctx, path, url)


def trusted_origin_findings(ctx: RuleContext, path: NodePath, url: str) -> Iterator[Diagnostic]:
    """The checks on one trusted API origin, a literal or a value read from the environment."""
    parts = _split(url)
    if parts is None:
        yield ctx.error(
            "invalid-url", f"{quoted(url)} is not an absolute http(s) origin with a host", path
        )
        return
    host = (parts.hostname or "").lower()
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not loopback:
        yield ctx.error(
            "insecure-url",
            f"trusted API origin {quoted(url)} must use https (http only on loopback, for a "
            "local FakeGong): bearer tokens would cross the network in clear",
            path,
        )
    elif not loopback and not is_gong_api_url(url):
        yield ctx.warning(
            "untrusted-endpoint",
            f"trusted API origin {quoted(url)} is not a Gong host nor loopback: customers' "
            "tokens would be sent there",
            path,
        )
    yield from _check_origin(ctx, path, url, parts)


def _oauth_endpoints(ctx: RuleContext) -> Iterator[tuple[NodePath, str, SplitResult]]:
    """oauth.authorize_url and oauth.token_url, when written out (not ``${env:…}``) and valid."""
    for key in ("authorize_url", "token_url"):
        value = ctx.get("oauth", key)
        if isinstance(value, str) and not has_reference(value):
            parts = _split(value)
            if parts is not None and parts.hostname:
                yield ("oauth", key), value, parts


def check_oauth_endpoints(ctx: RuleContext) -> Iterator[Diagnostic]:
    """The client secret, codes and refresh tokens travel to these: https, and to Gong."""
    for path, url, parts in _oauth_endpoints(ctx):
        yield from endpoint_findings(ctx, path, url, parts)


def endpoint_findings(
    ctx: RuleContext, path: NodePath, url: str, parts: SplitResult | None = None
) -> Iterator[Diagnostic]:
    """The checks on one OAuth endpoint: a literal (``parts`` given, its shape being the
    schema's job) or a value ``load_config`` read from the environment (shape checked here)."""
    if parts is None:
        parts = _split(url)
        if parts is None:
            yield ctx.error(
                "invalid-url", f"{quoted(url)} is not an absolute http(s) URL with a host", path
            )
            return
    allowed = [
        host.lower().rstrip(".") for _, host in ctx.strings("validation", "allowed_oauth_hosts")
    ]
    host = (parts.hostname or "").lower()
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not loopback:
        yield ctx.error(
            "insecure-url",
            f"{quoted(url)} must use https: the client secret, codes and refresh tokens "
            "would travel in clear text (http is allowed only for a loopback FakeGong)",
            path,
        )
    if not loopback and not _in_domains(host, [GONG_API_DOMAIN, *allowed]):
        yield ctx.warning(
            "untrusted-endpoint",
            f"host {quoted(host)} is not Gong's ({GONG_API_DOMAIN}): the client secret and "
            "every customer's codes and refresh tokens would be sent there; if it is "
            "yours, list it under validation.allowed_oauth_hosts",
            path,
        )


def _in_domains(host: str, domains: list[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def check_domains(ctx: RuleContext) -> Iterator[Diagnostic]:
    domains = [value.lower().rstrip(".") for _, value in ctx.strings("integration", "domains")]
    if not domains:
        return
    for path, url, _kind in _url_fields(ctx):
        parts = _split(url)
        if parts is None or parts.hostname is None or parts.hostname in LOOPBACK_HOSTS:
            continue
        host = parts.hostname.lower()
        if "*" not in host and not _in_domains(host, domains):
            yield ctx.warning(
                "url-outside-domains",
                f"host {quoted(host)} is not under the declared domains ({', '.join(domains)})",
                path,
            )


def check_iframe(ctx: RuleContext) -> Iterator[Diagnostic]:
    iframe = ctx.get("integration", "iframe")
    if not isinstance(iframe, dict) or iframe.get("enabled") is not True:
        return
    for key, what in (
        ("email_composer_url", "the email composer URL"),
        ("account_information_url", "the account information URL"),
    ):
        if not iframe.get(key):
            yield ctx.error(
                "iframe-missing-url",
                f"iFrame is enabled but {what} ({key}) is missing",
                ("integration", "iframe", "enabled"),
            )


def check_redirects(ctx: RuleContext) -> Iterator[Diagnostic]:
    if isinstance(ctx.get("oauth"), dict) and not ctx.get("integration", "redirect_uris"):
        yield ctx.error(
            "missing-redirect-uri",
            "oauth is configured but integration.redirect_uris lists no redirect URI",
            ("oauth",),
            at_key=True,
        )


def check_contacts(ctx: RuleContext) -> Iterator[Diagnostic]:
    for path, value in ctx.strings("integration", "contacts"):
        if not _EMAIL.match(value):
            yield ctx.error("invalid-email", f"{quoted(value)} is not an email address", path)


def _looks_like_image(head: bytes) -> bool:
    if head.startswith(_IMAGE_SIGNATURES):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    text = head.lstrip().lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)


class _NotRegularFileError(Exception):
    """A logo path that names a folder, a named pipe, a device or a socket."""


def _read_head(file: Path) -> bytes:
    """The first bytes of a regular file, without ever blocking on a FIFO or a device."""
    # O_NONBLOCK: opening a named pipe with no writer would otherwise wait forever.
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _NotRegularFileError("a folder")
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegularFileError("a special file (pipe, device or socket)")
        return os.read(fd, _LOGO_HEAD_BYTES)
    finally:
        os.close(fd)


def check_logos(ctx: RuleContext) -> Iterator[Diagnostic]:
    logos = ctx.get("integration", "logos")
    if not isinstance(logos, dict):
        return
    for key in ("small", "large"):
        value = logos.get(key)
        if not isinstance(value, str) or not value:
            continue
        path: NodePath = ("integration", "logos", key)
        try:
            head = _read_head(ctx.base_dir / value)
        except _NotRegularFileError as exc:
            yield ctx.error(
                "logo-not-image", f"logo {quoted(value)} is {exc}, not a regular file", path
            )
            continue
        except OSError:
            yield ctx.error(
                "logo-missing",
                f"logo file {quoted(value)} does not exist (paths are relative to the "
                "integration file's folder)",
                path,
            )
            continue
        if not _looks_like_image(head):
            yield ctx.error(
                "logo-not-image",
                f"logo {quoted(value)} is not a PNG, JPEG, GIF, WebP or SVG image",
                path,
            )


def _walk_strings(node: Any, path: NodePath) -> Iterator[tuple[NodePath, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk_strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_strings(value, (*path, index))


def check_interpolation(ctx: RuleContext) -> Iterator[Diagnostic]:
    for path, value in _walk_strings(ctx.data, ()):
        if "${" not in value:
            continue
        bad = malformed_reference(value)
        if bad is not None:
            # The text between the braces may be the secret itself: say where, not what.
            where = value.find(bad) + 1
            yield ctx.error(
                "bad-interpolation",
                f"the ${{…}} at character {where} of this value is not a valid reference "
                "(its text is not shown); write ${env:NAME}",
                path,
            )
        elif _section(path) not in INTERPOLATED_SECTIONS:
            yield ctx.error(
                "interpolation-not-allowed",
                "${env:…} references are allowed only under oauth and token_store",
                path,
            )


def _section(path: NodePath) -> str | int:
    """The top-level section a value belongs to, looking through ``environments.NAME``."""
    if path[0] == "environments" and len(path) > 2:
        return path[2]
    return path[0]


def _literal(value: Any) -> bool:
    """A non-empty value that is not exactly one ``${env:NAME}`` reference."""
    return isinstance(value, str) and bool(value) and REFERENCE.fullmatch(value) is None


def check_literal_secrets(ctx: RuleContext) -> Iterator[Diagnostic]:
    secret = ctx.get("oauth", "client_secret")
    if _literal(secret):
        mixed = " (literal text beside a reference is still written in the file)"
        yield ctx.error(
            "literal-secret",
            "client_secret is written in the file; reference it as ${env:GONG_CLIENT_SECRET}"
            + (mixed if has_reference(secret) else ""),
            ("oauth", "client_secret"),
        )
    keys = ctx.get("token_store", "encryption_key")
    key_items: list[tuple[NodePath, Any]]
    if isinstance(keys, list):
        key_items = [(("token_store", "encryption_key", i), k) for i, k in enumerate(keys)]
    else:
        key_items = [(("token_store", "encryption_key"), keys)]
    for path, key in key_items:
        if _literal(key):
            yield ctx.error(
                "literal-secret",
                "encryption_key is written in the file; reference it as ${env:GONG_AUTHLIB_KEY}",
                path,
            )
    url = ctx.get("token_store", "url")
    if isinstance(url, str) and _url_has_literal_password(url):
        yield ctx.error(
            "literal-secret",
            "the token store URL contains a password; use ${env:NAME} for it or for the URL",
            ("token_store", "url"),
        )


# Query parameters that carry a password in libpq and redis-py URLs.
_PASSWORD_PARAMS = frozenset({"password", "pass", "pwd", "sslpassword"})


def _url_has_literal_password(url: str) -> bool:
    """A password in the user info or the query that is not an ``${env:NAME}`` reference."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return False
    if password and REFERENCE.fullmatch(password) is None:
        return True
    return any(
        key.lower() in _PASSWORD_PARAMS and _literal(value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )


def _walk_keys(node: Any, path: NodePath) -> Iterator[NodePath]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _walk_keys(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_keys(value, (*path, index))


# Stores only this machine's users can write (a 0600 file, a process's memory).
_LOCAL_STORE_SCHEMES = frozenset({"sqlite", "memory"})


def check_store_encryption(ctx: RuleContext) -> Iterator[Diagnostic]:
    """A shared store without a key promises nothing against whoever can write it: a state or
    a token row they plant is indistinguishable from one the library wrote."""
    url = ctx.get("token_store", "url")
    if not isinstance(url, str) or "://" not in url or ctx.get("token_store", "encryption_key"):
        return
    scheme = url.partition("://")[0].lower()
    if has_reference(scheme) or scheme in _LOCAL_STORE_SCHEMES:
        return
    yield ctx.warning(
        "unencrypted-shared-store",
        f"the {scheme} token store has no encryption_key: anyone who can write it can read "
        "every refresh token and connect their own Gong company to any customer; set "
        "token_store.encryption_key to ${env:GONG_AUTHLIB_KEY}",
        ("token_store", "url"),
    )


def check_control_characters(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Terminal escapes and bidi overrides in any text: they rewrite what reviewers see."""
    for path, value in _walk_strings(ctx.data, ()):
        found = first_control(value)
        if found is not None:
            yield ctx.error("control-character", _control_message(found, "text"), path)
    for path in _walk_keys(ctx.data, ()):
        key = path[-1]
        found = first_control(key) if isinstance(key, str) else None
        if found is not None:
            yield ctx.error("control-character", _control_message(found, "key"), path, at_key=True)


def _control_message(found: tuple[int, str], what: str) -> str:
    offset, escaped = found
    return (
        f"{what} contains the control or bidirectional character {escaped} at character "
        f"{offset + 1}; terminals and review pages would act on it or reorder the text"
    )


RULES: tuple[Rule, ...] = (
    check_scopes,
    check_duplicates,
    check_urls,
    check_trusted_api_origins,
    check_oauth_endpoints,
    check_domains,
    check_iframe,
    check_redirects,
    check_trusted_ips,
    check_contacts,
    check_logos,
    check_interpolation,
    check_literal_secrets,
    check_store_encryption,
    check_control_characters,
)


def rule_diagnostics(
    document: YamlDocument,
    base_dir: Path,
    extra_scopes: Collection[str] = (),
    *,
    strict_scopes: bool = False,
) -> list[Diagnostic]:
    ctx = RuleContext(document, base_dir, extra_scopes, strict_scopes=strict_scopes)
    return [diagnostic for rule in RULES for diagnostic in rule(ctx)]
