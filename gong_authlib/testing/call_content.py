"""What FakeGong tells about a call beyond its metadata: parties, CRM context, transcript.

``POST /v2/calls/extensive`` returns these only when the request's ``contentSelector`` asks
(``exposedFields.parties``; ``context`` "Basic" or "Extended"), and ``POST /v2/calls/transcript``
returns transcripts. The data is small and stable per call: two parties (the call's primary
user and one prospect), one Salesforce opportunity and account, and a few sentences each,
with the speaker ids of the transcript those of the parties, as in Gong's answers.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gong_authlib.testing.records import BadListRequest

CONTEXT_LEVELS = ("None", "Basic", "Extended")


@dataclass(frozen=True)
class ContentSelector:
    """The parts of Gong's ``contentSelector`` FakeGong honours."""

    parties: bool = False
    context: str = "None"

    @classmethod
    def from_body(cls, payload: Mapping[str, Any]) -> ContentSelector:
        selector = payload.get("contentSelector", {})
        if not isinstance(selector, dict):
            raise BadListRequest("contentSelector must be a JSON object")
        context = selector.get("context", "None")
        if context not in CONTEXT_LEVELS:
            raise BadListRequest(f"contentSelector.context is one of {', '.join(CONTEXT_LEVELS)}")
        exposed = selector.get("exposedFields", {})
        if not isinstance(exposed, dict):
            raise BadListRequest("contentSelector.exposedFields must be a JSON object")
        parties = exposed.get("parties", False)
        if not isinstance(parties, bool):
            raise BadListRequest("contentSelector.exposedFields.parties must be true or false")
        return cls(parties=parties, context=context)


def _speaker_id(call_id: str, seat: int) -> str:
    # Gong's speaker ids are numbers as strings, distinct per party of a call.
    return str(zlib.crc32(f"{call_id}:{seat}".encode()) + 1_000_000_000)


def parties(customer: str, call_id: str, host: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The call's primary user (``host``, a user record) and one prospect."""
    prospect = f"prospect{int(call_id) % 1000}"
    return [
        {
            "id": _speaker_id(call_id, 10),
            "emailAddress": host["emailAddress"],
            "name": f"{host['firstName']} {host['lastName']}",
            "title": host["title"],
            "userId": host["id"],
            "speakerId": _speaker_id(call_id, 0),
            "context": [],
            "affiliation": "Internal",
            "methods": ["Invitee"],
        },
        {
            "id": _speaker_id(call_id, 11),
            "emailAddress": f"buyer@{prospect}.example",
            "name": f"Pat Buyer of {prospect}",
            "title": "VP Operations",
            "speakerId": _speaker_id(call_id, 1),
            "context": [],
            "affiliation": "External",
            "methods": ["Invitee"],
        },
    ]


def context(customer: str, call_id: str, level: str) -> list[dict[str, Any]]:
    """The CRM objects linked to the call: ids at "Basic", their fields too at "Extended"."""
    if level == "None":
        return []
    number = int(call_id) % 1_000_000
    objects: list[dict[str, Any]] = [
        {"objectType": "Opportunity", "objectId": f"006{number:012d}"},
        {"objectType": "Account", "objectId": f"001{number:012d}"},
    ]
    if level == "Extended":
        objects[0]["fields"] = [
            {"name": "Name", "value": f"{customer.title()} expansion {number % 100}"},
            {"name": "StageName", "value": "Discovery"},
            {"name": "Amount", "value": 25000},
        ]
        objects[1]["fields"] = [{"name": "Name", "value": f"Prospect {number % 1000}"}]
    return [{"system": "Salesforce", "objects": objects}]


def transcript(call_id: str, duration: int) -> list[dict[str, Any]]:
    """A short exchange between the call's two parties, times in milliseconds."""
    lines = [
        (0, "Introduction", "Thanks for making the time today."),
        (1, "Introduction", "Happy to, we have been looking at options."),
        (0, "Pricing", "Let me walk you through how pricing works."),
        (1, "Next Steps", "Send it over and we will review it this week."),
    ]
    step = max(1, duration * 1000 // len(lines))
    return [
        {
            "speakerId": _speaker_id(call_id, seat),
            "topic": topic,
            "sentences": [{"start": n * step, "end": (n + 1) * step - 1, "text": text}],
        }
        for n, (seat, topic, text) in enumerate(lines)
    ]
