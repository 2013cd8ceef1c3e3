"""The ``gong-authlib`` command line.

Parsing lives here and stays light; each command's work is imported only when it runs, so
``gong-authlib validate`` in a pre-commit hook never loads requests, authlib or a store.

Exit codes: 0 success (warnings allowed), 1 findings or a failed operation, 2 usage or internal
error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_EPILOG_VALIDATE = """\
examples:
  gong-authlib validate gong-integration.yaml
  gong-authlib validate --format github configs/*.gong.yaml
  gong-authlib validate --extra-scope api:new-thing:read gong-integration.yaml

exit codes: 0 valid (warnings allowed), 1 findings, 2 usage or internal error"""

_EPILOG_SCHEMA = """\
examples:
  gong-authlib schema > gong-integration.schema.json
  gong-authlib schema --path"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from gong_authlib import __version__

    parser = _Parser(
        prog="gong-authlib",
        description="Gong OAuth apps as code: validate and plan the integration file, "
        "authorize customers and manage their tokens.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    validate = commands.add_parser(
        "validate",
        help="check integration files against the schema and Gong's rules",
        description="Check integration files: YAML structure, the JSON Schema and Gong's "
        "rules, with file:line:col for every finding.",
        epilog=_EPILOG_VALIDATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="integration files")
    validate.add_argument(
        "--format", choices=("text", "json", "github"), default="text", help="output format"
    )
    validate.add_argument("--no-color", action="store_true", help="never colour the output")
    validate.add_argument(
        "--extra-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="accept a scope Gong added after this release (repeatable)",
    )
    validate.set_defaults(handler="gong_authlib.cli.validate_command:run")

    schema = commands.add_parser(
        "schema",
        help="print the integration file's JSON Schema",
        description="Print the JSON Schema of the integration file, or where it is installed.",
        epilog=_EPILOG_SCHEMA,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("--path", action="store_true", help="print the schema file's path")
    schema.set_defaults(handler="gong_authlib.cli.schema_command:run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module_name, _, function_name = args.handler.partition(":")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        code: int = handler(args)
        return code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`); nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if os.environ.get("GONG_AUTHLIB_DEBUG"):
            raise
        sys.stderr.write(
            f"gong-authlib: internal error: {type(exc).__name__}: {exc}\n"
            "Set GONG_AUTHLIB_DEBUG=1 to see the traceback, and please report it.\n"
        )
        return EXIT_USAGE
