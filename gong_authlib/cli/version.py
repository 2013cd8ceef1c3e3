"""``gong-authlib --version``: this release and the versions a bug report needs.

Read from the installed distributions' metadata, so nothing heavy is imported to print them.
"""

from __future__ import annotations

import platform
from importlib import metadata

# The packages whose versions change how tokens are fetched, sent and stored.
REPORTED = (
    "requests",
    "httpx",
    "authlib",
    "urllib3",
    "cryptography",
    "redis",
    "psycopg",
    "PyYAML",
)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_report() -> str:
    lines = [f"gong-authlib {_version('gong-authlib')}"]
    width = max(len(name) for name in REPORTED)
    lines += [f"  {name:<{width}}  {_version(name)}" for name in REPORTED]
    python = f"{platform.python_implementation()} {platform.python_version()}"
    lines.append(f"  {'Python':<{width}}  {python} on {platform.system()} {platform.machine()}")
    return "\n".join(lines) + "\n"
