"""FakeGong's control API: what a test in another process or language does to a running FakeGong.

``POST /_fakegong/<action>`` on the OAuth origin, with ``Authorization: Bearer <control
token>`` and a JSON object of arguments, answers ``{"action": ..., "result": ...}``. The
token is random per server (``gong-authlib fakegong`` prints it and can write it to a file)
and compared in constant time; only loopback peers are served. Without a token the token is
asked for (401), a wrong one is refused (403), and in both cases nothing is done.

Every action is one row of :data:`ACTIONS`: a name, what it does, its parameters and the
FakeGong method it calls. Arguments arrive as JSON values, or as text from ``gong-authlib
fakegong ctl --arg name=value`` (one conversion, here, for both). To add an action, add its
method to :class:`Controlled` and a row to the table (``fire-webhook`` below is one); for
instance the row for a method another branch adds::

    Action("add-access-key", "accept a company API key (the secret: ctl --arg-env)",
           (Param("customer", Customer), Param("key", str), Param("secret", str)),
           lambda gong, a: gong.add_access_key(a["customer"], a["key"], a["secret"]))

An action's result is what the caller needs to go on (the new client secret of
``rotate-secret``, the origin of ``add-customer``); never a secret it sent (an API key's).
"""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol

from gong_authlib.testing.clock import FakeClock
from gong_authlib.testing.emulator import FAULT_KINDS, Emulator, Reply, Stats


class Controlled(Protocol):
    """What the actions use of :class:`gong_authlib.testing.server.FakeGong` (which serves
    this API, so it is described here rather than imported). A new action's method joins it."""

    emulator: Emulator
    clock: FakeClock
    api_ports: dict[str, int]

    @property
    def stats(self) -> Stats: ...

    def add_customer(self, name: str) -> str: ...

    def sign_in(self, customer: str) -> None: ...

    def revoke(self, customer: str) -> None: ...

    def invalidate_access_tokens(self, customer: str) -> None: ...

    def inject(self, target: str, kind: str, **options: Any) -> None: ...

    def set_records(
        self, customer: str, *, users: int | None = None, calls: int | None = None
    ) -> None: ...

    def rotate_secret(self, new_secret: str | None = None, *, grace_hours: float = 24) -> str: ...

    def webhook_public_key(self, customer: str) -> str: ...

    def fire_webhook(
        self, url: str, *, customer: str, call: str | None = None, is_test: bool = False
    ) -> Any: ...


CONTROL_PREFIX = "/_fakegong/"
# A token shorter than this could be guessed by a local process trying tokens in a loop.
MIN_TOKEN_LENGTH = 16
# The body of a control call is a handful of arguments; anything bigger is a mistake.
MAX_BODY = 64 * 1024


class ControlError(Exception):
    """A control call refused: ``status`` and the message answered as ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Customer(str):
    """Marks a parameter naming a company this FakeGong has (checked before the action)."""

    __slots__ = ()


class Json:
    """Marks a parameter taking any JSON value (text from ``ctl`` is parsed as JSON)."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: type
    required: bool = True

    def convert(self, value: Any, gong: Controlled) -> Any:
        """``value`` as this parameter's type; text is parsed (it came from ``ctl --arg``)."""
        kind = self.kind
        if kind in (str, Customer):
            if not isinstance(value, str) or not value:
                raise ControlError(400, f"{self.name} must be a non-empty string")
            if kind is Customer and value not in gong.emulator.customer_origins:
                known = ", ".join(gong.emulator.customer_origins) or "none"
                raise ControlError(404, f"unknown customer {value!r} (known: {known})")
            return value
        if kind is Json:
            return _json_text(value, self.name) if isinstance(value, str) else value
        if kind is bool:
            text = {"true": True, "false": False}
            if isinstance(value, str) and value.lower() in text:
                return text[value.lower()]
            if not isinstance(value, bool):
                raise ControlError(400, f"{self.name} must be true or false")
            return value
        return self._number(value)

    def _number(self, value: Any) -> int | float:
        if isinstance(value, str):
            value = _json_text(value, self.name)
        integral = self.kind is int
        accepted = (int,) if integral else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted) or not math.isfinite(value):
            raise ControlError(400, f"{self.name} must be a {'whole ' if integral else ''}number")
        number: int | float = value
        return number


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    params: tuple[Param, ...]
    run: Callable[[Controlled, dict[str, Any]], Any]

    def arguments(self, given: Mapping[str, Any], gong: Controlled) -> dict[str, Any]:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            accepted = ", ".join(known) or "none"
            raise ControlError(400, f"{self.name}: unknown argument {unknown[0]!r} ({accepted})")
        missing = [p.name for p in self.params if p.required and p.name not in given]
        if missing:
            raise ControlError(400, f"{self.name}: missing argument {missing[0]!r}")
        return {name: known[name].convert(value, gong) for name, value in given.items()}


def _json_text(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ControlError(400, f"{name} is not JSON: {text[:40]!r}") from None


def stats_document(stats: Stats) -> dict[str, Any]:
    """Every counter of ``stats`` as JSON: tuple keys (customer, grant) become nested objects."""
    document: dict[str, Any] = {}
    for item in fields(stats):
        counter = getattr(stats, item.name)
        if not isinstance(counter, Counter):  # a plain value a later counter kind may add
            document[item.name] = counter
            continue
        nested: dict[str, Any] = {}
        for key, count in counter.items():
            *outer, last = key if isinstance(key, tuple) else (key,)
            level = nested
            for part in outer:
                level = level.setdefault(str(part), {})
            level[str(last)] = count
        document[item.name] = nested
    return document


def _inject(gong: Controlled, args: dict[str, Any]) -> None:
    if "remove" in args:
        args["remove"] = tuple(args["remove"])
    gong.inject(args.pop("target"), args.pop("kind"), **args)


def _add_customer(gong: Controlled, args: dict[str, Any]) -> dict[str, str]:
    if "port" in args:
        gong.api_ports[args["name"]] = args["port"]
    return {"origin": gong.add_customer(args["name"])}


def _rotate_secret(gong: Controlled, args: dict[str, Any]) -> dict[str, str]:
    # The new secret is returned: a test rotates to then use it, as a tech admin copies it
    # from Gong's page shown once.
    return {"client_secret": gong.rotate_secret(args.get("secret"), **_only(args, "grace_hours"))}


# The receiver's answer is returned for the test to check; its body only up to this.
MAX_ANSWER_TEXT = 4096


def _fire_webhook(gong: Controlled, args: dict[str, Any]) -> dict[str, Any]:
    answer = gong.fire_webhook(args.pop("url"), **args)
    return {"status": answer.status_code, "body": answer.text[:MAX_ANSWER_TEXT]}


def _only(args: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: args[name] for name in names if name in args}


def _actions_list(gong: Controlled, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": action.name,
            "summary": action.summary,
            "params": {
                p.name: {"required": p.required, "type": p.kind.__name__.lower()}
                for p in action.params
            },
        }
        for action in ACTIONS.values()
    ]


def _on_customer(
    name: str, summary: str, method: Callable[[Controlled], Callable[[str], None]]
) -> Action:
    """An action whose only argument is the company a FakeGong method acts on."""
    return Action(
        name, summary, (Param("customer", Customer),), lambda gong, a: method(gong)(a["customer"])
    )


_FAULT_OPTIONS = (
    Param("times", int, required=False),
    Param("status", int, required=False),
    Param("seconds", float, required=False),
    Param("retry_after", int, required=False),
    Param("customer", Customer, required=False),
    Param("body", Json, required=False),
    Param("headers", Json, required=False),
    Param("changes", Json, required=False),
    Param("remove", Json, required=False),
)

# One row per action; the table is the API (``actions`` lists it, ``ctl`` sends to it).
ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("actions", "list the actions and their arguments", (), _actions_list),
        Action(
            "stats",
            "what FakeGong counted (token calls, 401/403/429, missing scopes, form bodies)",
            (),
            lambda gong, args: stats_document(gong.stats),
        ),
        Action(
            "customers",
            "the companies and their API origins",
            (),
            lambda gong, args: dict(gong.emulator.customer_origins),
        ),
        Action(
            "add-customer",
            "start a company's API origin (port: 0 or absent takes a free one)",
            (Param("name", str), Param("port", int, required=False)),
            _add_customer,
        ),
        _on_customer(
            "sign-in",
            "make this company the one whose admin approves the next authorization",
            lambda gong: gong.sign_in,
        ),
        _on_customer(
            "revoke",
            "end every access and refresh token of a company (an admin uninstalling the app)",
            lambda gong: gong.revoke,
        ),
        _on_customer(
            "end-tokens",
            "expire a company's access tokens now; its refresh tokens still work",
            lambda gong: gong.invalidate_access_tokens,
        ),
        Action(
            "inject",
            f"queue a fault: target token|api, kind {'|'.join(sorted(FAULT_KINDS))}",
            (Param("target", str), Param("kind", str), *_FAULT_OPTIONS),
            _inject,
        ),
        Action(
            "set-records",
            "how many users and calls a company's list endpoints hold",
            (
                Param("customer", Customer),
                Param("users", int, required=False),
                Param("calls", int, required=False),
            ),
            lambda gong, args: gong.set_records(args["customer"], **_only(args, "users", "calls")),
        ),
        Action(
            "advance-clock",
            "move FakeGong's clock forward (codes and tokens age; real time goes on too)",
            (Param("seconds", float),),
            lambda gong, args: {"now": gong.clock.advance(args["seconds"])},
        ),
        Action(
            "rotate-secret",
            "rotate the client secret (the old one valid for grace_hours, default 24)",
            (Param("secret", str, required=False), Param("grace_hours", float, required=False)),
            _rotate_secret,
        ),
        Action(
            "webhook-public-key",
            "a company's webhook public key, bare base64 as Gong's UI shows it",
            (Param("customer", Customer),),
            lambda gong, args: {"public_key": gong.webhook_public_key(args["customer"])},
        ),
        Action(
            "fire-webhook",
            "POST a call to url signed as the company's automation rule would (Fire webhook)",
            (
                Param("url", str),
                Param("customer", Customer),
                Param("call", str, required=False),
                Param("is_test", bool, required=False),
            ),
            _fire_webhook,
        ),
        # Actions for methods other branches add (add_access_key) go here: see the module
        # docstring for its row.
    )
}


def control_reply(
    gong: Controlled,
    expected_token: str,
    *,
    peer: str,
    method: str,
    path: str,
    authorization: str,
    body: bytes,
) -> Reply:
    """The answer to one control call: a pure function of the request and FakeGong."""
    try:
        action = _authorised_action(expected_token, peer, method, path, authorization)
        arguments = action.arguments(_arguments(body), gong)
    except ControlError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return Reply(exc.status, {"error": str(exc)}, headers)
    # No lock held here: the FakeGong methods take the emulator's own, and an action that
    # calls out (a webhook delivery) must not block the endpoints its receiver may call.
    try:
        result = action.run(gong, arguments)
    except (ValueError, TypeError, OSError) as exc:
        # What the FakeGong method refused (a negative count, a grace period out of range, a
        # port taken): the caller's mistake, said as the method said it.
        return Reply(400, {"error": f"{action.name}: {exc}"})
    return Reply(200, {"action": action.name, "result": result})


def _authorised_action(
    expected_token: str, peer: str, method: str, path: str, authorization: str
) -> Action:
    """The action asked for, once the caller is known to be allowed; nothing is looked up
    before that, so a caller without the token learns nothing."""
    if not _is_loopback(peer):
        raise ControlError(403, "the control API answers loopback callers only")
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise ControlError(401, "the control token is missing (Authorization: Bearer ...)")
    if not secrets.compare_digest(presented.encode(), expected_token.encode()):
        raise ControlError(403, "the control token is wrong")
    if method != "POST":
        raise ControlError(405, "control actions are POST requests")
    name = path.removeprefix(CONTROL_PREFIX)
    action = ACTIONS.get(name)
    if action is None:
        raise ControlError(404, f"unknown action {name!r}; known: {', '.join(ACTIONS)}")
    return action


def _arguments(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise ControlError(413, f"the arguments exceed {MAX_BODY} bytes")
    try:
        given = json.loads(body or b"{}")
    except ValueError:
        raise ControlError(400, "the body must be a JSON object of arguments") from None
    if not isinstance(given, dict):
        raise ControlError(400, "the body must be a JSON object of arguments")
    return given


def _is_loopback(peer: str) -> bool:
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
