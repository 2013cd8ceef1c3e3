"""``gong-authlib validate``: every finding of every file, then one exit code."""

from __future__ import annotations

import argparse
import sys

from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK
from gong_authlib.cli.reporters import render_github, render_json, render_text, use_color, write
from gong_authlib.config.diagnostics import has_errors, warnings_as_errors
from gong_authlib.config.validate import check_document, folder_of, read_document
from gong_authlib.errors import Diagnostic


def run(args: argparse.Namespace) -> int:
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for name in args.files:
        document = read_document(name)
        sources[name] = document.text
        diagnostics.extend(
            check_document(
                document,
                base_dir=folder_of(name),
                extra_scopes=args.extra_scope,
                environment=args.env,
                strict_scopes=args.strict_scopes or args.strict,
            )
        )
    if args.strict:
        diagnostics = warnings_as_errors(diagnostics)
    if args.format == "json":
        write(render_json(diagnostics, len(args.files)))
    elif args.format == "github":
        write(render_github(diagnostics))
    else:
        color = use_color(sys.stdout, no_color=args.no_color)
        write(render_text(diagnostics, sources, len(args.files), color=color))
    return EXIT_FINDINGS if has_errors(diagnostics) else EXIT_OK
