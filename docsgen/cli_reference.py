"""The CLI reference page, rendered from ``gong_authlib.cli.parser.build_parser()``.

Every command and subcommand gets a heading (its anchor is ``gong-authlib-COMMAND-ACTION``),
its description, its usage line, a table of its options and its epilog (examples and exit
codes), all read from argparse, so a flag added to the parser is documented by the next build.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from gong_authlib.cli.parser import build_parser


def commands(
    parser: argparse.ArgumentParser | None = None, prefix: str = "gong-authlib"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """``(full command, its parser)`` for the root and every (sub)command, depth first."""
    parser = parser or build_parser()
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prefix} {name}")


def anchor(command: str) -> str:
    return command.replace(" ", "-")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    metavar = ""
    if action.nargs != 0:
        metavar = f" {action.metavar or action.dest.upper()}"
    return ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {"default": action.default, "prog": "", "choices": action.choices}
    extras = []
    if action.required and action.option_strings:
        extras.append("required")
    if action.choices and action.option_strings:
        extras.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
    if action.nargs == "+" or isinstance(action, argparse._AppendAction):
        extras.append("repeatable" if action.option_strings else "one or more")
    if extras and "repeatable" in text:
        extras = [e for e in extras if e != "repeatable"]
    return _cell(text + (f" ({'; '.join(extras)})" if extras else ""))


def _options(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        rows.append(f"| {_flags(action)} | {_help(action)} |")
    if not rows:
        return []
    return ["| argument | meaning |", "|---|---|", *rows, ""]


def _subcommands(parser: argparse.ArgumentParser, command: str) -> list[str]:
    lines = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name in action.choices:
                full = f"{command} {name}"
                lines.append(f"- [`{full}`](#{anchor(full)}): {helps.get(name) or ''}")
    return [*lines, ""] if lines else []


def _description(text: str) -> list[str]:
    text = text.strip()
    if "\n" in text:  # laid out by hand (lists, steps): kept as it is
        return ["```text", text, "```", ""]
    return [text.replace("*", "\\*").replace("<", "&lt;"), ""]


def _usage(parser: argparse.ArgumentParser) -> str:
    # A fixed width, so the page does not depend on the terminal that built it.
    formatter = argparse.RawDescriptionHelpFormatter(prog=parser.prog, width=88)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return formatter.format_help().strip()


def render() -> str:
    """The whole page body: one section per command, in the parser's order."""
    out = []
    for command, parser in commands():
        depth = command.count(" ")
        level = "#" * min(depth + 2, 4)
        out.append(f"{level} `{command}` {{#{anchor(command)}}}")
        out.append("")
        if parser.description:
            out += _description(parser.description)
        out += ["```text", _usage(parser), "```", ""]
        out += _subcommands(parser, command)
        out += _options(parser)
        if parser.epilog:
            out += ["```text", parser.epilog.strip(), "```", ""]
    return "\n".join(out)
