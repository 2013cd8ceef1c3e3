"""FakeGong's list endpoints: generated users and calls, paged as Gong pages them.

Gong answers a list endpoint with ``records`` (``totalRecords``, ``currentPageSize``,
``currentPageNumber`` counted from 0, and ``cursor`` on every page but the last) beside the
list itself. The next page is asked for with ``?cursor=`` on GET endpoints and ``"cursor"`` in
the JSON body of POST endpoints (``/v2/calls/extensive``, ``/v2/users/extensive``). A filter
that matches nothing is a 404 ``No calls found corresponding to the provided filters``, not an
empty page. Ids are 64-bit integers sent as strings.

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


def user_record(customer: str, index: int) -> dict[str, Any]:
    user_id = str(_id_base(customer, "user") + index)
    manager = str(_id_base(customer, "user")) if index else None
    return {
        "id": user_id,
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


def call_record(customer: str, index: int, origin: str) -> dict[str, Any]:
    call_id = str(_id_base(customer, "call") + index)
    return {
        "id": call_id,
        "url": f"{origin}/call?id={call_id}",
        "title": f"Discovery call {index} with {customer}",
        "scheduled": call_started(index).isoformat().replace("+00:00", "Z"),
        "started": call_started(index).isoformat().replace("+00:00", "Z"),
        "duration": 1800 + index,
        "primaryUserId": str(_id_base(customer, "user")),
        "direction": "Conference",
        "system": "Zoom",
        "scope": "External",
        "media": "Video",
        "language": "eng",
        "workspaceId": str(_id_base(customer, "workspace")),
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
        count = self.users.get(customer, DEFAULT_USERS)
        indices = list(range(count))
        ids = filters.get("userIds")
        if ids is not None:
            if not isinstance(ids, list):
                raise BadListRequest("filter.userIds must be a list of ids")
            wanted = {str(i) for i in ids}
            indices = [i for i in indices if str(_id_base(customer, "user") + i) in wanted]
        request = (customer, endpoint, filters)
        return self._page(request, "users", cursor, indices, lambda i: user_record(customer, i))

    def list_calls(
        self,
        customer: str,
        endpoint: str,
        filters: Mapping[str, Any],
        cursor: str | None,
        origin: str,
        *,
        extensive: bool,
    ) -> tuple[int, dict[str, Any]]:
        count = self.calls.get(customer, DEFAULT_CALLS)
        since = _when(filters.get("fromDateTime"), "fromDateTime")
        until = _when(filters.get("toDateTime"), "toDateTime")
        indices = [
            i
            for i in range(count)
            if (since is None or call_started(i) >= since)
            and (until is None or call_started(i) < until)
        ]

        def build(i: int) -> dict[str, Any]:
            record = call_record(customer, i, origin)
            if extensive:
                return {"metaData": record, "parties": [], "context": []}
            return record

        return self._page((customer, endpoint, filters), "calls", cursor, indices, build)

    def call_index(self, customer: str, call_id: str) -> int | None:
        """Which of ``customer``'s calls has the id ``call_id``, or None if none has."""
        if not call_id.isdigit():
            return None
        index = int(call_id) - _id_base(customer, "call")
        return index if 0 <= index < self.calls.get(customer, DEFAULT_CALLS) else None

    def _page(
        self,
        request: tuple[str, str, Mapping[str, Any]],
        kind: str,
        cursor: str | None,
        indices: list[int],
        build: Callable[[int], dict[str, Any]],
    ) -> tuple[int, dict[str, Any]]:
        """One page of ``indices`` from ``cursor`` on; ``request`` is (customer, endpoint,
        filters), which a cursor must match."""
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
            return 404, {"errors": [f"No {kind} found corresponding to the provided filters"]}
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
