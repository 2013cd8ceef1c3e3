"""Where the CLI sends the library's log records: stderr, redacted, at the level asked for.

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
never loads :mod:`logging`.
"""

from __future__ import annotations

import logging
import sys

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


def send_logs_to_stderr(verbosity: int, *, quiet: bool = False) -> logging.Handler:
    """Attach one redacting stderr handler to the root logger; returns it."""
    level = level_for(verbosity, quiet=quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretRedactingFilter())  # on the handler: every record passes it
    if verbosity:
        handler.setFormatter(logging.Formatter(_VERBOSE_FORMAT, datefmt="%H:%M:%S"))
    else:
        handler.setFormatter(logging.Formatter(_PLAIN_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(max(level, logging.WARNING))  # other libraries: warnings at most
    logging.getLogger(ROOT).setLevel(level)
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(
            level if level == logging.DEBUG else max(level, logging.WARNING)
        )
    return handler
