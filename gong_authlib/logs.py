"""The library's loggers, all under ``gong_authlib``, silent until the application says where
logs go. Kept out of the package's ``__init__`` so the validate path does not import logging.
"""

from __future__ import annotations

import logging

ROOT = "gong_authlib"

# A library never decides where log records go; NullHandler also keeps Python's last-resort
# handler from printing our warnings to stderr when the application configured nothing.
logging.getLogger(ROOT).addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{ROOT}.{name}")
