"""How the integration file judges a scope this release does not know.

Gong adds scopes over time (the known ones are in :mod:`gong_authlib.gong.scopes`), so:

- a near-miss of a known scope (``api:user:read``, the truncated ``api:calls:read``) is a typo:
  an error, since Gong would refuse the whole authorization;
- a well-formed scope (``api:<resource>:<verb>…``) that is no near-miss is probably one Gong
  added after this release: a warning (an error with ``validation.strict_scopes``);
- anything else is not a scope at all: an error.

Listing a scope under ``validation.extra_scopes`` (or ``--extra-scope``) makes it known.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple

from gong_authlib.config.diagnostics import did_you_mean
from gong_authlib.gong.scopes import COMMON_MISTAKES, MAX_SCOPE_LENGTH, WELL_FORMED_SCOPE

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
