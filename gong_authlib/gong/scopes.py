"""The Gong API scopes this release knows, with the endpoints each one opens.

Sources: Gong's API reference (its OpenAPI), Gong's own error texts and public connectors.
How the integration file judges a scope that is not here is
:mod:`gong_authlib.config.scope_policy`.
"""

from __future__ import annotations

import re

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

# Gong's scopes: lower-case words joined by hyphens, "api", a resource, then one or more verbs.
WELL_FORMED_SCOPE = re.compile(r"^api:[a-z0-9]+(?:-[a-z0-9]+)*(?::[a-z0-9]+(?:-[a-z0-9]+)*)+$")
# Gong's longest scope is under 40 characters; anything far longer is no scope Gong will add.
MAX_SCOPE_LENGTH = 100
