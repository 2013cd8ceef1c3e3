"""FakeGong's list endpoints: generated users and calls, paged as Gong pages them.

Gong answers a list endpoint with ``records`` (``totalRecords``, ``currentPageSize``,
``currentPageNumber`` counted from 0, and ``cursor`` on every page but the last) beside the
list itself. The next page is asked for with ``?cursor=`` on GET endpoints and ``"cursor"`` in
the JSON body of POST endpoints (``/v2/calls/extensive``, ``/v2/calls/transcript``,
``/v2/users/extensive``). Calls are filtered as Gong filters them (a date window, ``callIds``,
``workspaceId``, ``primaryUserIds``; each company has one workspace and its calls go round its
users), users by ``userIds``. A filter that matches nothing is a 404 ``No calls found
corresponding to the provided filters``, not an empty page. Ids are 64-bit integers sent as strings.

Cursors are opaque and strict, so client bugs show: a cursor FakeGong never issued, one
issued for another customer, endpoint or filter, or a cursor in the query of a POST endpoint,
is a 400 (real Gong would silently serve page 0 again, and the client would loop).
"""

from __future__ import annotations

import secrets
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_PAGE_SIZE = 100
DEFAULT_USERS = 3
DEFAULT_CALLS = 5
# Generated calls start here, one an hour, so a date filter can select some or none.
FIRST_CALL = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CALL_SPACING = timedelta(hours=1)


class BadListRequest(ValueError):
    """A list request FakeGong refuses with 400; the message is Gong's error text."""


def _id_base(customer: str, kind: str) -> int:
    # Stable per customer, above 2**53 like Gong's ids, so a float parser would corrupt them.
    return 7_000_000_000_000_000_000 + zlib.crc32(f"{kind}:{customer}".encode()) * 1_000_000


def user_id(customer: str, index: int) -> str:
    return str(_id_base(customer, "user") + index)


def call_id(customer: str, index: int) -> str:
    return str(_id_base(customer, "call") + index)


def user_record(customer: str, index: int) -> dict[str, Any]:
    manager = user_id(customer, 0) if index else None
    return {
        "id": user_id(customer, index),
        "emailAddress": f"user{index}@{customer}.example" if index else f"admin@{customer}.example",
        "created": "2025-06-01T12:00:00Z",
        "active": True,
        "emailAliases": [],
        "trustedEmailAddress": None,
        "firstName": f"User{index}",
        "lastName": customer.title(),
        "title": "Account Executive" if index else "Sales Director",
        "phoneNumber": None,
        "extension": None,
        "personalMeetingUrls": [],
        "settings": {
            "webConferencesRecorded": True,
            "preventWebConferenceRecording": False,
            "telephonyCallsImported": False,
            "emailsImported": True,
            "preventEmailImport": False,
            "nonRecordedMeetingsImported": True,
            "gongConnectEnabled": True,
        },
        "managerId": manager,
        "meetingConsentPageUrl": None,
        "spokenLanguages": [{"language": "en-US", "primary": True}],
    }


def call_started(index: int) -> datetime:
    return FIRST_CALL + index * CALL_SPACING


def workspace_record(customer: str) -> dict[str, Any]:
    """The one workspace each FakeGong company has; every call is in it."""
    return {
        "id": str(_id_base(customer, "workspace")),
        "name": f"{customer.title()} Sales",
        "description": f"Calls of {customer}'s sales team",
    }


def primary_user(index: int, users: int) -> int:
    """Calls go round the company's users, so a filter by user selects some (the admin, user
    0, when the company has none)."""
    return index % users if users else 0


def call_record(
    customer: str, index: int, origin: str, *, users: int = DEFAULT_USERS
) -> dict[str, Any]:
    this_call = call_id(customer, index)
    return {
        "id": this_call,
        "url": f"{origin}/call?id={this_call}",
        "title": f"Discovery call {index} with {customer}",
        "scheduled": call_started(index).isoformat().replace("+00:00", "Z"),
        "started": call_started(index).isoformat().replace("+00:00", "Z"),
        "duration": 1800 + index,
        "primaryUserId": user_id(customer, primary_user(index, users)),
        "direction": "Conference",
        "system": "Zoom",
        "scope": "External",
        "media": "Video",
        "language": "eng",
        "workspaceId": workspace_record(customer)["id"],
        "sdrDisposition": None,
        "clientUniqueId": None,
        "customData": None,
        "purpose": None,
        "meetingUrl": f"https://zoom.example/j/{index}",
        "isPrivate": False,
        "calendarEventId": None,
    }


@dataclass
class _Cursor:
    customer: str
    endpoint: str
    filters: str
    offset: int
    page: int


@dataclass
class Catalog:
    """How many users and calls each customer has, the page size, and the issued cursors."""

    page_size: int = DEFAULT_PAGE_SIZE
    users: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    _cursors: dict[str, _Cursor] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_records(
        self, customer: str, *, users: int | None = None, calls: int | None = None
    ) -> None:
        for name, count in (("users", users), ("calls", calls)):
            if count is not None and count < 0:
                raise ValueError(f"{name} must be 0 or more, not {count}")
        if users is not None:
            self.users[customer] = users
        if calls is not None:
            self.calls[customer] = calls

    def list_users(
        self, customer: str, endpoint: str, filters: Mapping[str, Any], cursor: str | None
    ) -> tuple[int, dict[str, Any]]:
        wanted = _ids(filters.get("userIds"), "userIds")
        indices = [
            i
            for i in range(self.user_count(customer))
            if wanted is None or user_id(customer, i) in wanted
        ]
        request = (customer, endpoint, filters)
        return self._page(request, "users", cursor, indices, lambda i: user_record(customer, i))

    def user_count(self, customer: str) -> int:
        return self.users.get(customer, DEFAULT_USERS)

    def list_calls(
        self,
        customer: str,
        endpoint: str,
        filters: Mapping[str, Any],
        cursor: str | None,
        build: Callable[[int], dict[str, Any]],
        *,
        kind: str = "calls",
    ) -> tuple[int, dict[str, Any]]:
        """A page of the calls ``filters`` select, each made by ``build(index)`` and listed
        under ``kind`` (``calls``, ``callTranscripts``)."""
        indices = self._call_indices(customer, filters)
        return self._page((customer, endpoint, filters), kind, cursor, indices, build, noun="calls")

    def _call_indices(self, customer: str, filters: Mapping[str, Any]) -> list[int]:
        """Gong's call filter: a date window, ``callIds``, ``workspaceId`` and
        ``primaryUserIds``; every given one must hold."""
        count = self.calls.get(customer, DEFAULT_CALLS)
        users = self.user_count(customer)
        since = _when(filters.get("fromDateTime"), "fromDateTime")
        until = _when(filters.get("toDateTime"), "toDateTime")
        wanted_calls = _ids(filters.get("callIds"), "callIds")
        wanted_users = _ids(filters.get("primaryUserIds"), "primaryUserIds")
        workspace = filters.get("workspaceId")
        if workspace is not None and not isinstance(workspace, str | int):
            raise BadListRequest("filter.workspaceId must be an id")
        return [
            i
            for i in range(count)
            if (since is None or call_started(i) >= since)
            and (until is None or call_started(i) < until)
            and (wanted_calls is None or call_id(customer, i) in wanted_calls)
            and (wanted_users is None or user_id(customer, primary_user(i, users)) in wanted_users)
            and (workspace is None or str(workspace) == workspace_record(customer)["id"])
        ]

    def call_index(self, customer: str, call_id: str) -> int | None:
        """Which of ``customer``'s calls has the id ``call_id``, or None if none has."""
        return _index(call_id, _id_base(customer, "call"), self.calls.get(customer, DEFAULT_CALLS))

    def user_index(self, customer: str, user_id: str) -> int | None:
        """Which of ``customer``'s users has the id ``user_id``, or None if none has."""
        return _index(user_id, _id_base(customer, "user"), self.user_count(customer))

    def _page(
        self,
        request: tuple[str, str, Mapping[str, Any]],
        kind: str,
        cursor: str | None,
        indices: list[int],
        build: Callable[[int], dict[str, Any]],
        *,
        noun: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One page of ``indices`` from ``cursor`` on; ``request`` is (customer, endpoint,
        filters), which a cursor must match; ``noun`` names the records in Gong's 404 (the
        list's key by default)."""
        customer, endpoint, filters = request
        key = repr(sorted(filters.items()))
        offset, page = 0, 0
        if cursor is not None:
            with self._lock:
                issued = self._cursors.get(cursor)
            if issued is None or (issued.customer, issued.endpoint, issued.filters) != (
                customer,
                endpoint,
                key,
            ):
                raise BadListRequest("cursor is invalid or was issued for another request")
            offset, page = issued.offset, issued.page
        if not indices:
            noun = noun or kind
            return 404, {"errors": [f"No {noun} found corresponding to the provided filters"]}
        chunk = indices[offset : offset + self.page_size]
        records: dict[str, Any] = {
            "totalRecords": len(indices),
            "currentPageSize": len(chunk),
            "currentPageNumber": page,
        }
        if offset + self.page_size < len(indices):
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._cursors[token] = _Cursor(
                    customer, endpoint, key, offset + self.page_size, page + 1
                )
            records["cursor"] = token
        return 200, {"records": records, kind: [build(i) for i in chunk]}


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadListRequest(f"{name} must be an ISO-8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadListRequest(f"{name} is not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BadListRequest(f"{name} needs a time zone (for example 2026-01-05T00:00:00Z)")
    return parsed


def _ids(value: Any, name: str) -> set[str] | None:
    """A filter's list of ids as strings (Gong sends ids as strings; numbers are taken too)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(i, str | int) for i in value):
        raise BadListRequest(f"filter.{name} must be a list of ids")
    return {str(i) for i in value}


def _index(record_id: str, base: int, count: int) -> int | None:
    if not record_id.isdigit():
        return None
    index = int(record_id) - base
    return index if 0 <= index < count else None
