"""Plans: what changed between two versions of an integration file, and what each change
means in Gong's Admin center and for installed customers.

Gong's integration details are edited by hand (Admin center > Settings > Ecosystem > API >
INTEGRATIONS), so a plan is a reviewed list of edits to make there, in Gong's own grouping,
with each change's consequence: a new scope, for instance, works only after every installed
customer has authorized the app again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from gong_authlib.config.diagnostics import NodePath, format_path
from gong_authlib.config.interpolation import has_reference, is_secret_field
from gong_authlib.safe_text import escape_controls

Action = Literal["add", "change", "remove"]
SYMBOLS: dict[Action, str] = {"add": "+", "change": "~", "remove": "-"}

GROUPS = (
    "Integration details",
    "App logo",
    "Required authorization scopes",
    "Links",
    "Contacts and domains",
    "iFrame",
    "Trusted IPs",
    "Local settings (not edited in Gong)",
)

# Lists whose items are compared one by one (a scope added, a redirect URI removed…).
ITEM_LISTS = {
    ("integration", "scopes"),
    ("integration", "redirect_uris"),
    ("integration", "contacts"),
    ("integration", "domains"),
    ("integration", "iframe", "allowed_origins"),
    ("integration", "iframe", "customer_origins", "integration_types"),
    ("integration", "trusted_ips", "access_token"),
    ("integration", "trusted_ips", "refresh_token"),
    ("validation", "extra_scopes"),
}


@dataclass(frozen=True)
class Change:
    action: Action
    path: str
    old: Any
    new: Any
    group: str
    consequence: str

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]


@dataclass
class Plan:
    """The changes from ``old`` to ``new``; ``creating`` when there is no old version."""

    changes: list[Change] = field(default_factory=list)
    creating: bool = False

    def count(self, action: Action) -> int:
        return sum(change.action == action for change in self.changes)

    @property
    def summary(self) -> str:
        return (
            f"Plan: {self.count('add')} to add, {self.count('change')} to change, "
            f"{self.count('remove')} to remove."
        )

    def by_group(self) -> Iterator[tuple[str, list[Change]]]:
        for group in GROUPS:
            changes = [c for c in self.changes if c.group == group]
            if changes:
                yield group, changes

    def steps(self) -> list[str]:
        """The Admin center checklist, in the order the edit form shows its areas."""
        if self.creating:
            return [
                "Admin center > Settings > Ecosystem > API > INTEGRATIONS > Create Integration",
                "Enter every field listed above, then Save",
                "Copy the Client ID and Client Secret into the environment the file references",
            ]
        steps = []
        for group, changes in self.by_group():
            if group.startswith("Local settings"):
                continue
            edits = "; ".join(_edit_text(change) for change in changes)
            steps.append(f"{group}: {edits}")
        if steps:
            steps.insert(
                0, "Admin center > Settings > Ecosystem > API > INTEGRATIONS > your integration"
            )
            steps.append("Save")
        if any(c.path == "integration.scopes" and c.action == "add" for c in self.changes):
            steps.append("Ask every installed customer's tech admin to authorize the app again")
        if any(c.path.startswith("integration.iframe.customer_origins") for c in self.changes):
            steps.append("Run `gong-authlib origins apply --customer NAME` for each customer")
        return steps


def _edit_text(change: Change) -> str:
    field_name = change.path.rsplit(".", 1)[-1]
    if change.action == "add":
        return f"add {field_name} {show(change.path, change.new)}"
    if change.action == "remove":
        return f"remove {field_name} {show(change.path, change.old)}"
    return f"set {field_name} to {show(change.path, change.new)}"


def show(path: str, value: Any) -> str:
    """A value for people; secrets and ``${env:…}`` references are never shown."""
    if value is None:
        return "(none)"
    if is_secret_field(path) or (isinstance(value, str) and has_reference(value)):
        return "(sensitive)"
    if isinstance(value, str):
        # One line, escapes visible: a value must not move the cursor or forge plan lines.
        return f'"{escape_controls(value)}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _group(path: NodePath) -> str:
    head = path[0] if path else ""
    if head != "integration":
        return GROUPS[-1]
    second = path[1] if len(path) > 1 else ""
    return {
        "name": "Integration details",
        "short_description": "Integration details",
        "description": "Integration details",
        "logos": "App logo",
        "scopes": "Required authorization scopes",
        "redirect_uris": "Links",
        "links": "Links",
        "contacts": "Contacts and domains",
        "domains": "Contacts and domains",
        "iframe": "iFrame",
        "trusted_ips": "Trusted IPs",
    }.get(str(second), "Integration details")


# (path or path prefix ending in "."/"*", consequence when added, when changed or removed);
# the first match wins, so specific paths come before their prefixes.
_CONSEQUENCES: tuple[tuple[str, str, str], ...] = (
    (
        "integration.scopes",
        "every installed customer must authorize the app again before the new scope works; "
        "until then calls needing it get 403",
        "existing tokens keep the scope until the customer authorizes again",
    ),
    (
        "integration.redirect_uris",
        "register it in Gong before the app sends anyone to it",
        "authorizations in flight that return to it will fail; stop using it in the app first",
    ),
    (
        "integration.iframe.customer_origins*",
        "push to each installed customer with `gong-authlib origins apply`",
        "push to each installed customer with `gong-authlib origins apply`",
    ),
    (
        "integration.iframe.allowed_origins",
        "add it under Allowed origins in the iFrame settings",
        "remove it from Allowed origins; the iFrame will refuse to load from it",
    ),
    (
        "integration.iframe.enabled",
        "turns the iFrame integration on for every customer",
        "turns the iFrame integration on or off for every customer",
    ),
    (
        "integration.iframe*",
        "update the iFrame settings; customers' iFrames load the new URL",
        "update the iFrame settings; customers' iFrames load the new URL",
    ),
    (
        "integration.trusted_ips.access_token",
        "API calls from this address are accepted as soon as it is saved; add it before any "
        "worker calls the API from there",
        "workers calling the API from this address get their calls refused as soon as it is "
        "saved: move them off it first",
    ),
    (
        "integration.trusted_ips.refresh_token",
        "token refreshes from this address are accepted as soon as it is saved; add it before "
        "any worker refreshes from there",
        "workers calling from this address can no longer refresh tokens as soon as it is "
        "saved: their customers' tokens stop working when they expire; move them off it first",
    ),
    (
        "integration.logos*",
        "cosmetic: the small logo shows on the app page, the large one on the approval screen",
        "cosmetic: the small logo shows on the app page, the large one on the approval screen",
    ),
    (
        "integration.links*",
        "cosmetic: shown on the integration's listing",
        "cosmetic: shown on the integration's listing",
    ),
    (
        "integration.contacts",
        "Gong may contact this address about the integration",
        "Gong will no longer contact this address",
    ),
    (
        "integration.domains",
        "Gong associates this domain with you",
        "Gong no longer associates this domain with you",
    ),
    (
        "integration*",
        "cosmetic: shown on Gong's integrations page and the integration's own page",
        "cosmetic: shown on Gong's integrations page and the integration's own page",
    ),
    (
        "oauth.client*",
        "local: a different OAuth client; customers who authorized the old one must do so again",
        "local: a different OAuth client; customers who authorized the old one must do so again",
    ),
)


def consequence(path: NodePath, action: Action) -> str:
    """What ``action`` on ``path`` means in Gong, for the people who will approve it."""
    dotted = format_path(path)
    for pattern, when_added, otherwise in _CONSEQUENCES:
        prefix = pattern.removesuffix("*")
        if dotted == pattern or (pattern.endswith("*") and dotted.startswith(prefix)):
            return when_added if action == "add" else otherwise
    return "local to this app's deployment; nothing to edit in Gong"


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> Plan:
    """The plan from ``old`` (None: the integration does not exist yet) to ``new``."""
    plan = Plan(creating=old is None)
    _walk(old or {}, new, (), plan.changes)
    return plan


def _walk(old: Any, new: Any, path: NodePath, out: list[Change]) -> None:
    if (
        path in ITEM_LISTS
        and isinstance(old, list | type(None))
        and isinstance(new, list | type(None))
    ):
        before, after = list(old or []), list(new or [])
        out.extend(_change("remove", path, item, None) for item in before if item not in after)
        out.extend(_change("add", path, None, item) for item in after if item not in before)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            _walk(old.get(key), new.get(key), (*path, key), out)
        return
    if old == new:
        return
    if old is None:
        _flatten("add", path, new, out)
    elif new is None:
        _flatten("remove", path, old, out)
    else:
        out.append(_change("change", path, old, new))


def _flatten(action: Action, path: NodePath, value: Any, out: list[Change]) -> None:
    """A whole new (or removed) section, reported field by field."""
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten(action, (*path, key), child, out)
    elif isinstance(value, list) and path in ITEM_LISTS:
        out.extend(
            _change(
                action, path, None if action == "add" else item, item if action == "add" else None
            )
            for item in value
        )
    else:
        old, new = (None, value) if action == "add" else (value, None)
        out.append(_change(action, path, old, new))


def _change(action: Action, path: NodePath, old: Any, new: Any) -> Change:
    return Change(
        action=action,
        path=format_path(path),
        old=old,
        new=new,
        group=_group(path),
        consequence=consequence(path, action),
    )
