"""FakeGong's API routes: one table row per endpoint (method, path pattern, scope, handler).

A pattern is a Gong path with ``{name}`` for one path segment (``/v2/calls/{id}``); the
segment's text reaches the handler in :attr:`ApiRequest.params`. Matching is exact otherwise:
Gong answers ``/v2/users/`` with 404, and so does FakeGong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class ApiRequest:
    """An authorised API call as a handler sees it."""

    customer: str
    body: bytes
    query: Mapping[str, str]
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route(Generic[Handler]):
    method: str
    pattern: str
    scope: str
    handler: Handler
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        literal = _PLACEHOLDER.split(self.pattern)
        # split() alternates literal text and placeholder names: escape the first, capture the rest.
        parts = [
            f"(?P<{piece}>[^/]+)" if odd else re.escape(piece)
            for odd, piece in ((i % 2 == 1, p) for i, p in enumerate(literal))
        ]
        object.__setattr__(self, "_regex", re.compile("".join(parts)))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's parameters if this route serves ``method path``, else None."""
        if method != self.method:
            return None
        found = self._regex.fullmatch(path)
        return None if found is None else found.groupdict()


def find_route(
    routes: Iterable[Route[Handler]], method: str, path: str
) -> tuple[Route[Handler], dict[str, str]] | None:
    """The first route serving ``method path`` and its parameters. Literal routes are listed
    before patterned ones where both could match (``/v2/calls/extensive`` before
    ``/v2/calls/{id}``), so table order is the precedence."""
    for route in routes:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None
