"""AccessKey: a company's own Gong API key, and what every transport's auth needs of it.

Gong's other credential (Admin center > API > "Get API key") is HTTP Basic
``access_key:secret`` sent to the company's base URL. It is a company's whole API, so it gets
the guarantees a customer's bearer token gets: sent only to its ``base_url`` origin, never
refreshed (there is nothing to refresh: a 401 is handed back as it is, with one WARNING), and
its secret never in a ``repr``, a message or a log record.

:class:`AccessKeyAuthBase` is what ``GongAccessKeyAuth`` (requests) and
``GongHttpxAccessKeyAuth`` (httpx) share, as ``CustomerAuthBase`` is for the OAuth front ends:
the header, the origin check and the 401 warning are written once.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from gong_authlib.errors import OriginMismatch
from gong_authlib.gong.hosts import untrusted_reason
from gong_authlib.logs import get_logger
from gong_authlib.origins import (
    BaseUrlError,
    has_control_or_space,
    normalize_origins,
    origin_in_message,
    origin_of,
    parse_base_url,
)
from gong_authlib.secret import Secret

__all__ = ["AccessKey", "AccessKeyAuthBase"]

log = get_logger("auth")


@dataclass(frozen=True, init=False)
class AccessKey:
    """A Gong company API key: ``access_key`` (the key's id), ``secret`` and ``base_url``.

    ``base_url`` is the company's API base URL as Gong's API page shows it
    (``https://us-12345.api.gong.io``; older accounts ``https://api.gong.io``). It must be a
    plain https URL under ``gong.io``, or an origin listed in ``trusted_origins`` (a local
    FakeGong, a proxy of your own), exactly as a customer's ``api_base_url_for_customer``.

    ``company`` names whose Gong budget (3 calls a second, 10,000 a day, per company whatever
    the credential) calls with this key draw on when paced through a store: the customer name
    your app gives that company's OAuth tokens, if it has some, so that both share one budget.
    By default it is ``base_url``'s origin.

    ``repr`` and ``str`` show the key's id and origin, never the secret (held as a
    :class:`~gong_authlib.Secret`).
    """

    access_key: str
    secret: Secret = field(repr=False)
    base_url: str
    trusted_origins: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    company: str = ""

    def __init__(
        self,
        access_key: str,
        secret: str | Secret,
        base_url: str,
        *,
        trusted_origins: Iterable[str] = (),
        company: str | None = None,
    ) -> None:
        if not isinstance(access_key, str) or not access_key:
            raise ValueError("the access key is empty")
        if ":" in access_key or has_control_or_space(access_key):
            # Basic's user-id cannot hold a colon; whitespace is a copy-paste accident.
            raise ValueError("the access key contains a colon, whitespace or a control character")
        revealed = secret.reveal() if isinstance(secret, Secret) else secret
        if not isinstance(revealed, str) or not revealed:
            raise ValueError(f"the secret of access key {access_key} is empty")
        if has_control_or_space(revealed):
            raise ValueError(
                f"the secret of access key {access_key} contains whitespace or a control "
                "character (a trailing newline from a file?)"
            )
        trusted = normalize_origins(trusted_origins)
        try:
            base = parse_base_url(base_url)
        except BaseUrlError as problem:
            raise BaseUrlError(f"base_url of access key {access_key}: {problem}") from None
        reason = untrusted_reason(base, trusted)
        if reason is not None:
            reason = reason.replace("trusted_api_origins", "trusted_origins")
            raise BaseUrlError(f"base_url of access key {access_key}: {reason}")
        if company is not None and (not isinstance(company, str) or not company):
            raise ValueError("company is a non-empty name")
        object.__setattr__(self, "access_key", access_key)
        object.__setattr__(self, "secret", Secret(revealed))
        object.__setattr__(self, "base_url", base)
        object.__setattr__(self, "trusted_origins", trusted)
        object.__setattr__(self, "company", company or origin_of(base))

    def __str__(self) -> str:
        return f"access key {self.access_key} for {self.origin}"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of ``base_url``: the only place the key is sent."""
        return origin_of(self.base_url)

    def header(self) -> str:
        """The ``Authorization`` value: ``Basic base64(access_key:secret)``."""
        pair = f"{self.access_key}:{self.secret.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class AccessKeyAuthBase:
    """One access key, bound to its origin: the part of the auth every transport shares."""

    def __init__(self, key: AccessKey) -> None:
        if not isinstance(key, AccessKey):
            raise TypeError(f"expected an AccessKey, not {type(key).__name__}")
        self.key = key
        # Computed once: the hot path is a prefix test and one header.
        self._header = key.header()
        self._origin = key.origin
        self._prefix = self._origin + "/"
        self._warned = False
        self._warn_lock = threading.Lock()
        self._built()

    def _built(self) -> None:
        """For a front end's own per-instance state, set once the key is read."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"

    @property
    def customer(self) -> str:
        """Whose Gong budget this key's calls draw on (:attr:`AccessKey.company`)."""
        return self.key.company

    @property
    def api_base_url(self) -> str:
        return self.key.base_url

    def known_base_url(self) -> str:
        """Where relative paths go: the key's ``base_url``, which never moves."""
        return self.key.base_url

    def stored_base_url(self) -> str:
        """As :meth:`known_base_url`: a key keeps nothing in a store."""
        return self.key.base_url

    def check_origin(self, url: str) -> None:
        """Raise OriginMismatch unless ``url`` is on the key's origin (the exact check, for
        URLs the prefix test did not pass: upper case, an explicit default port)."""
        origin = origin_in_message(url)
        if origin != self._origin:
            raise OriginMismatch(
                f"refusing to send {self.key} to {origin}: an access key goes only to its "
                "base_url's origin"
            )

    def rejected(self, status: int) -> None:
        """Gong refused the key (401): say so once, at WARNING; the answer goes back as it
        is, since nothing a client can do makes a refused key valid."""
        if self._warned:
            return
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        log.warning(
            "Gong answered %d to %s: the key or its secret is wrong, expired or revoked, or "
            "this machine's address is not among the key's trusted IPs (logged once)",
            status,
            self.key,
        )
