"""The ``gong-authlib`` command line.

Parsing stays light (:mod:`gong_authlib.cli.parser`); each command's work is imported only
when it runs, so ``gong-authlib validate`` in a pre-commit hook never loads requests, authlib
or a store.

Exit codes: 0 success (warnings allowed), 1 findings or a failed operation, 2 usage or internal
error, 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

from gong_authlib.cli.outcome import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
)

__all__ = ["EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "CommandError", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    changes_exit_2 = _detailed_exitcode(arguments)
    problem = _argument_problem(arguments)
    if problem is not None:
        sys.stderr.write(f"gong-authlib: error: {_printable(problem)}\n")
        return _error_code(EXIT_USAGE, changes_exit_2)
    try:
        args, verbosity = _parse(arguments)
    except SystemExit as exc:
        if exc.code == EXIT_USAGE and changes_exit_2:
            return EXIT_FINDINGS
        raise
    return _run(args, verbosity, changes_exit_2)


def _parse(arguments: list[str]) -> tuple[argparse.Namespace, int]:
    """The arguments and the verbosity (-v counted before and after the command)."""
    from gong_authlib.cli.parser import build_parser

    parser = build_parser(_command_name(arguments))
    args = parser.parse_args(arguments)
    verbosity: int = args.verbose + getattr(args, "verbose_after", 0)
    if verbosity and args.quiet:
        parser.error("-v/--verbose and -q/--quiet contradict each other")
    return args, verbosity


def _run(args: argparse.Namespace, verbosity: int, changes_exit_2: bool) -> int:
    module_name, _, function_name = args.handler.partition(":")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        quiet = args.quiet or (getattr(args, "narrates_failures", False) and not verbosity)
        return _with_logs(handler, args, verbosity, quiet=quiet)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`); nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CommandError as exc:
        sys.stderr.write(f"gong-authlib: {_printable(exc)}\n")
        return _error_code(exc.code, changes_exit_2)
    except Exception as exc:
        return _error_code(_report(exc), changes_exit_2)


def _detailed_exitcode(arguments: list[str]) -> bool:
    """Whether this is ``plan --detailed-exitcode`` (or an abbreviation argparse accepts)."""
    return _command_name(arguments) == "plan" and any(
        a.startswith("--d") and "--detailed-exitcode".startswith(a) for a in arguments
    )


def _error_code(code: int, changes_exit_2: bool) -> int:
    """Under ``plan --detailed-exitcode`` 2 means "changes present" (Terraform's contract): an
    error, usage and internal ones included, must then exit 1, or CI reads it as a plan."""
    return EXIT_FINDINGS if changes_exit_2 and code == EXIT_USAGE else code


def _printable(message: object) -> str:
    """A message for the terminal: it may name a file, URL or value the user did not choose
    (a file name from a pull request), so control and bidi characters come out escaped."""
    from gong_authlib.safe_text import escape_controls

    return escape_controls(str(message), keep_newlines=True)


def _argument_problem(arguments: Sequence[str]) -> str | None:
    """Arguments no file, ref or URL can hold; the OS would refuse them deep in a command."""
    for argument in arguments:
        if "\x00" in argument:
            return "an argument contains a NUL byte"
        try:
            # Undecodable bytes from the OS come as escaped surrogates and encode back;
            # a lone surrogate from elsewhere does not.
            os.fsencode(argument)
        except UnicodeEncodeError:
            return "an argument is not valid text (a lone surrogate)"
    return None


def _command_name(arguments: list[str]) -> str | None:
    """The subcommand, skipping the options that may come before it (``-v tokens list``)."""
    return next((a for a in arguments if not a.startswith("-")), None)


def _with_logs(
    handler: Callable[[argparse.Namespace], int],
    args: argparse.Namespace,
    verbosity: int,
    *,
    quiet: bool,
) -> int:
    """Run the command with log records on stderr, unless it never logs and -v was not given.

    A command whose modules never imported :mod:`logging` (validate, schema) has no records
    to show; importing it only to configure it would slow every pre-commit run.
    """
    if not verbosity and "logging" not in sys.modules:
        return handler(args)
    from gong_authlib.cli.verbosity import logs_to_stderr

    with logs_to_stderr(verbosity, quiet=quiet):
        return handler(args)


def _report(exc: Exception) -> int:
    """Our own errors as one clear line; anything else as an internal error, never a trace."""
    from gong_authlib.errors import ConfigError, GongAuthError

    if isinstance(exc, ConfigError) and exc.diagnostics:
        from gong_authlib.cli.reporters import render_text

        sys.stderr.write(render_text(exc.diagnostics, {}, 1, color=False, with_summary=False))
        errors = sum(d.is_error for d in exc.diagnostics)
        files = sorted({d.file for d in exc.diagnostics if d.file})
        which = f" {_printable(files[0])}" if len(files) == 1 else ""
        sys.stderr.write(
            f"gong-authlib: error: cannot use the integration file{which}: "
            f"{errors} error{'s' if errors != 1 else ''} above\n"
        )
        return EXIT_FINDINGS
    if isinstance(exc, GongAuthError):
        sys.stderr.write(f"gong-authlib: error: {_printable(exc)}\n")
        return EXIT_FINDINGS
    if os.environ.get("GONG_AUTHLIB_DEBUG"):
        raise exc
    sys.stderr.write(
        f"gong-authlib: internal error: {type(exc).__name__}: {_printable(exc)}\n"
        "Set GONG_AUTHLIB_DEBUG=1 to see the traceback, and please report it.\n"
    )
    return EXIT_USAGE
