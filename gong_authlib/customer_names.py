"""What a customer name may be: it is a key in files, Redis and SQL, and is printed.

Kept apart from the stores so the command-line parser can check ``--customer`` without
importing them.
"""

from __future__ import annotations

from gong_authlib.config.controls import first_control

MAX_CUSTOMER_LENGTH = 200


def customer_problem(name: object) -> str | None:
    """Why ``name`` cannot be a customer name, or None if it can."""
    if not isinstance(name, str) or not name or len(name) > MAX_CUSTOMER_LENGTH:
        return f"a customer name is 1 to {MAX_CUSTOMER_LENGTH} characters of text"
    if any(ord(ch) < 32 for ch in name) or first_control(name) is not None:
        return "a customer name cannot contain control characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a customer name must be valid Unicode text (it holds a lone surrogate)"
    return None
