"""``gong-authlib schema``: the integration file's JSON Schema, as text or as a path."""

from __future__ import annotations

import argparse
from importlib import resources

from gong_authlib.cli.outcome import EXIT_OK
from gong_authlib.cli.reporters import write
from gong_authlib.config.schema import SCHEMA_RESOURCE, schema_path


def run(args: argparse.Namespace) -> int:
    if args.path:
        write(f"{schema_path()}\n")
    else:
        write(resources.files("gong_authlib").joinpath(SCHEMA_RESOURCE).read_text("utf-8"))
    return EXIT_OK
