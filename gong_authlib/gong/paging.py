"""Gong's cursor paging, transport-neutral: what the next page's request carries, and when a
404 means "nothing found".

List endpoints answer ``{"records": {"cursor": "…", …}, "calls": […]}``; ``cursor`` is absent
on the last page. The next page is asked for with ``?cursor=…`` on GET endpoints and with
``"cursor": "…"`` in the JSON body on POST ones (``/v2/calls/extensive``). A window with no
records is a 404 ``{"errors": ["No calls found corresponding to the provided filters"]}``:
an empty result, not a failure (only that 404: a proxy's or a wrong path's "No endpoint found"
is an error). An answer that is not a JSON object is refused (:class:`NotAPage`), and so is a
cursor Gong already gave (:class:`RepeatedCursor`):
a server bug must not become an endless loop of calls against the company's budget. Every
front end (requests, httpx sync and async) pages with these functions, so they agree on what a
page is; each raises a refusal as its own HTTP error, carrying the response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# Gong's own words for an empty window ("No calls found corresponding to the provided
# filters"); looser matching would turn a wrong path's 404 into a silently empty result.
_NOTHING_FOUND = re.compile(r"^No [\w -]+ found corresponding to\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The query parameters and JSON body of one page's request."""

    params: dict[str, Any] | None
    json: dict[str, Any] | None
    # The cursors followed to get here: a page is the same page whatever led to it.
    followed: frozenset[str] = field(default=frozenset(), compare=False, repr=False)


class PagingError(Exception):
    """A page that cannot be followed. Internal: each front end raises it as its own HTTP
    error, carrying the response."""


class RepeatedCursor(PagingError):
    """Gong answered a cursor it had already given: following it would loop forever."""


class NotAPage(PagingError):
    """Gong's answer (with a success status) is not a JSON object."""


def first_page(
    method: str, params: Mapping[str, Any] | None, json: Mapping[str, Any] | None
) -> PageRequest:
    """The first page's request: the caller's own parameters, copied (later pages add to them)."""
    if json is not None and method.upper() == "GET":
        raise ValueError("GET endpoints take the cursor as a query parameter: pass params=")
    start = (params if method.upper() == "GET" else json) or {}
    cursor = start.get("cursor")
    return PageRequest(
        dict(params) if params is not None else None,
        dict(json) if json is not None else None,
        # A caller resuming from a saved cursor: Gong giving it again is a loop too.
        frozenset({cursor}) if isinstance(cursor, str) and cursor else frozenset(),
    )


def page_of(answer: object) -> dict[str, Any]:
    """``answer`` as a page, or NotAPage: a list, text or an HTML error page is no page."""
    if not isinstance(answer, dict):
        raise NotAPage("Gong's answer is not a JSON object")
    return answer


def next_page(previous: PageRequest, method: str, answer: object) -> PageRequest | None:
    """The request for the page after ``answer``, or None if ``answer`` was the last page.

    Raises RepeatedCursor if ``answer``'s cursor was followed already on the way here.
    """
    records = answer.get("records") if isinstance(answer, dict) else None
    cursor = records.get("cursor") if isinstance(records, dict) else None
    if not isinstance(cursor, str) or not cursor:
        return None
    if cursor in previous.followed:
        raise RepeatedCursor("Gong repeated a cursor")
    followed = previous.followed | {cursor}
    if method.upper() == "GET":
        return PageRequest({**(previous.params or {}), "cursor": cursor}, previous.json, followed)
    return PageRequest(previous.params, {**(previous.json or {}), "cursor": cursor}, followed)


def is_nothing_found(status: int, answer: object) -> bool:
    """True for Gong's 404 "No … found": an empty result rather than an error."""
    if status != 404 or not isinstance(answer, dict):
        return False
    errors = answer.get("errors")
    return isinstance(errors, list) and any(
        isinstance(error, str) and _NOTHING_FOUND.match(error) for error in errors
    )


class _Answer(Protocol):
    def json(self) -> Any: ...


def json_or_none(response: _Answer) -> Any:
    """A response's JSON (requests' or httpx's), or None when its body is not JSON."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: nested past what Python reads
        return None
