"""How a command ends: its exit codes, and the one-line failure it may raise.

Exit codes: 0 success (warnings allowed), 1 findings or a failed operation, 2 usage or internal
error, 130 interrupted. Kept apart from ``cli/__init__`` so that commands import these without
importing the dispatcher that imports them.
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CommandError(Exception):
    """A user-facing failure: printed as one line, exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_FINDINGS) -> None:
        super().__init__(message)
        self.code = code
