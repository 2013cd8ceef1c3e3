"""A wrapper that keeps a secret out of reprs, logs, tracebacks and f-strings by accident."""

from __future__ import annotations

import hashlib
import hmac


class Secret:
    """Holds a secret string; only :meth:`reveal` gives it back.

    ``repr``, ``str`` and formatting all show a mask, so a config object or exception that
    carries a ``Secret`` can be printed safely.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def fingerprint(self) -> str:
        """A short, stable, non-reversible tag for logs: the first 8 hex digits of SHA-256."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:8]

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __bool__(self) -> bool:
        return bool(self._value)
