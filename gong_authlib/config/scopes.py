"""The Gong API scopes this release knows, with the endpoints each one opens, and how a scope
this release does not know is judged.

Sources: Gong's API reference, Gong's own error texts and public connectors. Gong adds scopes
over time, so an unknown scope is judged by :func:`judge_scope`:

- a near-miss of a known scope (``api:user:read``, the truncated ``api:calls:read``) is a typo:
  an error, since Gong would refuse the whole authorization;
- a well-formed scope (``api:<resource>:<verb>…``) that is no near-miss is probably one Gong
  added after this release: a warning (an error with ``validation.strict_scopes``);
- anything else is not a scope at all: an error.

Listing a scope under ``validation.extra_scopes`` (or ``--extra-scope``) makes it known.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, NamedTuple

from gong_authlib.config.diagnostics import did_you_mean

KNOWN_SCOPES: dict[str, str] = {
    "api:calls:read:basic": "GET /v2/calls, /v2/calls/{id}",
    "api:calls:read:extensive": "POST /v2/calls/extensive",
    "api:calls:read:media-url": "media URLs in /v2/calls/extensive",
    "api:calls:read:transcript": "POST /v2/calls/transcript",
    "api:calls:create": "POST /v2/calls, PUT /v2/calls/{id}/media",
    "api:call-user-access:read": "GET /v2/calls/users-access",
    "api:call-user-access:write": "PUT/DELETE /v2/calls/users-access",
    "api:call-outcomes:read": "/v2/call-outcomes",
    "api:crm-calls:manual-association:read": "/v2/calls/manual-crm-associations",
    "api:users:read": "/v2/users, /v2/users/extensive, /v2/users/{id}",
    "api:workspaces:read": "/v2/workspaces",
    "api:library:read": "/v2/library/folders, /v2/library/folder-content",
    "api:logs:read": "/v2/logs",
    "api:stats:user-actions": "/v2/stats/activity/...",
    "api:stats:user-actions:detailed": "/v2/stats/activity/day-by-day",
    "api:stats:scorecards": "/v2/stats/activity/scorecards",
    "api:stats:interaction": "/v2/stats/interaction",
    "api:settings:scorecards:read": "/v2/settings/scorecards",
    "api:settings:trackers:read": "/v2/settings/trackers",
    "api:crm:integration:register": "PUT /v2/crm/integrations",
    "api:crm:integration:delete": "DELETE /v2/crm/integrations",
    "api:crm:integrations:read": "GET /v2/crm/integrations",
    "api:crm:upload": "/v2/crm/entities",
    "api:crm:get-objects": "GET /v2/crm/entities",
    "api:crm:schema": "/v2/crm/entity-schema",
    "api:meetings:user:create": "POST /v2/meetings",
    "api:meetings:user:update": "PUT /v2/meetings/{id}",
    "api:meetings:user:delete": "DELETE /v2/meetings/{id}",
    "api:meetings:integration:status": "/v2/meetings/integration/status",
    "api:data-privacy:read": "/v2/data-privacy/data-for-...",
    "api:data-privacy:delete": "/v2/data-privacy/erase-data-for-...",
    "api:engagement-data:write": "/v2/customer-engagement/...",
    "api:flows:read": "/v2/flows",
    "api:flows:write": "/v2/flows/prospects/...",
    "api:digital-interactions:write": "POST /v2/digital-interaction",
    "api:integration-settings:write": "POST /v2/integration-settings",
    "api:permission-profile:read": "/v2/permission-profile, /v2/all-permission-profiles",
    "api:permission-profile:write": "POST/PUT /v2/permission-profile",
    "api:tasks:read": "GET /v2/tasks",
    "api:tasks:write": "/v2/tasks",
    "api:provisioning:read": "(endpoint not confirmed)",
    "api:provisioning:read-write": "(endpoint not confirmed)",
    "api:coaching:read": "GET /v2/coaching",
    "api:ai-briefer:read": "POST /v2/entities/get-brief",
}

# Scopes seen in public code that Gong does not grant, with what the author most likely meant.
COMMON_MISTAKES: dict[str, str] = {
    "api:calls:read": "api:calls:read:basic",
    "api:calls:read:media": "api:calls:read:media-url",
}

# Scopes whose grant is needed by gong-authlib's own commands.
INTEGRATION_SETTINGS_SCOPE = "api:integration-settings:write"

# Gong's scopes: lower-case words joined by hyphens, "api", a resource, then one or more verbs.
WELL_FORMED_SCOPE = re.compile(r"^api:[a-z0-9]+(?:-[a-z0-9]+)*(?::[a-z0-9]+(?:-[a-z0-9]+)*)+$")
# Gong's longest scope is under 40 characters; anything far longer is no scope Gong will add.
MAX_SCOPE_LENGTH = 100
# Terraform's "did you mean" threshold: within two edits, a scope is a slip of the keyboard.
TYPO_DISTANCE = 2
# Looser, for the hint on a scope that is probably new: close enough to be worth showing.
HINT_DISTANCE = 4

ScopeKind = Literal["known", "typo", "unknown", "malformed"]


class ScopeVerdict(NamedTuple):
    kind: ScopeKind
    suggestion: str | None = None


def _resource(scope: str) -> str:
    return scope.split(":")[1] if scope.count(":") >= 1 else ""


@lru_cache(maxsize=8)
def _candidates(known: frozenset[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The known scopes sorted, and grouped by resource: once per set, not once per scope."""
    ordered = sorted(known)
    by_resource: dict[str, list[str]] = {}
    for candidate in ordered:
        by_resource.setdefault(_resource(candidate), []).append(candidate)
    return ordered, by_resource


# Each environment's merged result repeats the base file's scopes: each is judged once.
@lru_cache(maxsize=8192)
def judge_scope(scope: str, known: frozenset[str], *, hint: bool = True) -> ScopeVerdict:
    """Whether ``scope`` is known, a typo of a known scope, a well-formed unknown scope or not a
    scope at all, with the closest known scope when there is one worth naming.

    The one place that measures how close a scope is to the known ones; every comparison goes
    through :func:`did_you_mean` with a small bound, so a file of many scopes stays linear.
    ``hint=False`` skips the looser searches that only name a close scope in a message.
    """
    if scope in known:
        return ScopeVerdict("known")
    candidates, by_resource = _candidates(known)
    if len(scope) > MAX_SCOPE_LENGTH or not WELL_FORMED_SCOPE.match(scope):
        suggestion = did_you_mean(scope.strip().lower(), candidates) if hint else None
        return ScopeVerdict("malformed", suggestion)
    mistake = COMMON_MISTAKES.get(scope)
    if mistake:
        return ScopeVerdict("typo", mistake)
    resource = _resource(scope)
    near = did_you_mean(scope, candidates, max_distance=TYPO_DISTANCE)
    # api:logs:write is two edits from api:flows:write, but "logs" is a resource spelled right:
    # a new verb on a known resource is a new scope, not a typo.
    if near and (_resource(near) == resource or resource not in by_resource):
        return ScopeVerdict("typo", near)
    if not hint:
        return ScopeVerdict("unknown")
    same = did_you_mean(scope, by_resource.get(resource, []), max_distance=HINT_DISTANCE)
    return ScopeVerdict(
        "unknown", same or did_you_mean(scope, candidates, max_distance=HINT_DISTANCE)
    )
