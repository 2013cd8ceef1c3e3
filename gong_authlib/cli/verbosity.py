"""Where the CLI sends log records: stderr, redacted, at the level asked for.

=============  ===========================================================================
flags          shown on stderr
=============  ===========================================================================
``--quiet``    errors only
(none)         warnings and errors
``-v``         the ``gong_authlib`` loggers from INFO (refreshes, lock waits, migrations)
``-vv``        the ``gong_authlib`` loggers and urllib3 from DEBUG (each HTTP request line)
=============  ===========================================================================

stdout stays the command's own output (``--format json`` included), so logs never mix into
what a script parses. Imported only when logs can exist: the ``validate`` path without ``-v``
never loads :mod:`logging`. Everything set up here is undone when the command ends, so
``main()`` called in-process (tests, the fuzzer) leaves the host's logging as it found it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gong_authlib.logs import ROOT
from gong_authlib.redaction import SecretRedactingFilter

# Loggers -vv opens besides ours: the request lines that show what went over the wire (token
# URLs included, which is why the handler redacts).
WIRE_LOGGERS = ("urllib3",)

_VERBOSE_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
_PLAIN_FORMAT = "gong-authlib: %(levelname)s: %(message)s"


def level_for(verbosity: int, *, quiet: bool) -> int:
    if quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


def _is_under(name: str, parents: tuple[str, ...]) -> bool:
    return any(name == parent or name.startswith(parent + ".") for parent in parents)


class _Shown(logging.Filter):
    """Our loggers (and, at DEBUG, the wire's) at the level asked for; others' warnings."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level
        self.detailed = (ROOT, *WIRE_LOGGERS) if level <= logging.DEBUG else (ROOT,)

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_under(record.name, self.detailed):
            return record.levelno >= self.level
        return record.levelno >= max(self.level, logging.WARNING)


@contextmanager
def logs_to_stderr(verbosity: int, *, quiet: bool = False) -> Iterator[logging.Handler]:
    """One redacting stderr handler on the root logger while the command runs."""
    level = level_for(verbosity, quiet=quiet)
    shown = _Shown(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(shown)
    handler.addFilter(SecretRedactingFilter())  # on the handler: every record shown passes it
    fmt = _VERBOSE_FORMAT if verbosity else _PLAIN_FORMAT
    handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    # Loggers are only ever opened further (never closed) so that a host that already logs
    # more (a test harness) keeps its records; the filter above decides what is shown.
    opened = []
    for name in shown.detailed:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > level:
            opened.append((logger, logger.level))
            logger.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, previous in opened:
            logger.setLevel(previous)
