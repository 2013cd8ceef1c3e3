"""``gong-authlib plan``: what to change in Gong, Terraform-style, against git or a file."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.cli.reporters import render_text, use_color
from gong_authlib.config.diagnostics import has_errors
from gong_authlib.config.environments import merged_document, without_environments
from gong_authlib.config.plan import Plan, diff, show
from gong_authlib.config.validate import check_document, read_document
from gong_authlib.config.yamlsource import YamlDocument, read_source
from gong_authlib.errors import Diagnostic
from gong_authlib.safe_text import escape_controls

JSON_FORMAT_VERSION = "1"
EXIT_CHANGES = 2
# The logo files of a git revision are not on disk: their checks apply to the current side.
_FILE_CHECKS = {"logo-missing", "logo-not-image"}


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - fixed git arguments, no shell
        ["git", "-C", str(folder), *args],  # noqa: S607 - git from PATH, as a user runs it
        capture_output=True,
        check=False,
    )


def _from_git(path: Path, ref: str) -> tuple[YamlDocument | None, str]:
    folder = path.resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise CommandError(
            f"{path} is not in a git repository: pass --against OLD_FILE", EXIT_USAGE
        )
    if _git(folder, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise CommandError(
            f"--against {ref}: no such git revision or file{_shallow_hint(folder)}", EXIT_USAGE
        )
    relative = path.resolve().relative_to(Path(top.stdout.decode().strip()).resolve())
    label = f"{ref}:{relative.as_posix()}"
    shown = _git(folder, "show", label)
    if shown.returncode != 0:
        return None, label  # the file is new since ref: the plan creates the integration
    return read_source(shown.stdout, label), label


def _shallow_hint(folder: Path) -> str:
    # CI checkouts fetch one commit by default: the base ref is simply not there yet.
    shallow = _git(folder, "rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
    if not shallow:
        return ""
    return (
        "; this is a shallow clone: fetch the history (actions/checkout with fetch-depth: 0) "
        "or the base ref (git fetch origin BRANCH)"
    )


def _old_side(path: Path, against: str) -> tuple[YamlDocument | None, str, bool]:
    """The old document, its label, and whether it came from git."""
    candidate = Path(against)
    if candidate.is_file():
        return read_document(candidate), str(candidate), False
    document, label = _from_git(path, against)
    return document, label, True


def _checked(
    document: YamlDocument, base_dir: Path, env: str | None, *, from_git: bool
) -> list[Diagnostic]:
    found = check_document(document, base_dir=base_dir, environment=env)
    return [d for d in found if not (from_git and d.code in _FILE_CHECKS)]


def _data(document: YamlDocument, env: str | None) -> dict[str, Any]:
    chosen = merged_document(document, env) if env else without_environments(document)
    return chosen.data if isinstance(chosen.data, dict) else {}


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    new = read_document(path)
    base_dir = path.resolve().parent
    problems = _checked(new, base_dir, args.env, from_git=False)
    old, label, from_git = _old_side(path, args.against)
    if old is not None:
        old_base = base_dir if from_git else Path(args.against).resolve().parent
        problems += _checked(old, old_base, args.env, from_git=from_git)
    if has_errors(problems):
        sources = {new.file: new.text, **({old.file: old.text} if old else {})}
        color = use_color(sys.stderr, no_color=args.no_color)
        sys.stderr.write(render_text(problems, sources, 2 if old else 1, color=color))
        sys.stderr.write("The plan stops here: fix the errors above first.\n")
        return EXIT_FINDINGS
    plan = diff(_data(old, args.env) if old else None, _data(new, args.env))
    title = f"{path} against {label}" + (f" (environment {args.env})" if args.env else "")
    render = {"text": _text, "markdown": _markdown, "json": _json}[args.format]
    # Values are escaped by show(); file names, refs and keys are escaped here.
    sys.stdout.write(
        escape_controls(render(plan, title, str(path), label, args.env), keep_newlines=True)
    )
    if args.detailed_exitcode and plan.changes:
        return EXIT_CHANGES
    return EXIT_OK


def _line(change: Any) -> str:
    if change.action == "change":
        return f"{change.path}: {show(change.path, change.old)} -> {show(change.path, change.new)}"
    value = change.new if change.action == "add" else change.old
    return f"{change.path}: {show(change.path, value)}"


def _text(plan: Plan, title: str, file: str, against: str, env: str | None) -> str:
    if not plan.changes:
        return f"No changes: Gong needs no edit for {title}.\n"
    out = [f"Plan for {title}", ""]
    if plan.creating:
        out += [f"{against} does not exist: this plan creates the integration in Gong.", ""]
    for group, changes in plan.by_group():
        out.append(group)
        for change in changes:
            out.append(f"  {change.symbol} {_line(change)}")
            out.append(f"      {change.consequence}")
        out.append("")
    out += [plan.summary, "", "In Gong:"]
    out += [f"  {n}. {step}" for n, step in enumerate(plan.steps(), 1)]
    return "\n".join(out) + "\n"


def _cell(path: str, value: Any) -> str:
    return "" if value is None else f"`{show(path, value)}`".replace("|", "\\|")


def _markdown(plan: Plan, title: str, file: str, against: str, env: str | None) -> str:
    out = [f"### gong-authlib plan: `{file}` against `{against}`", ""]
    if not plan.changes:
        return "\n".join([*out, "No changes: Gong needs no edit.", ""])
    if plan.creating:
        out += ["This plan **creates** the integration in Gong.", ""]
    out += [f"**{plan.summary}**", ""]
    for group, changes in plan.by_group():
        out += [
            f"#### {group}",
            "",
            "| | field | old | new | what it means |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {c.symbol} | `{c.path}` | {_cell(c.path, c.old)} | {_cell(c.path, c.new)} "
            f"| {c.consequence} |"
            for c in changes
        ]
        out.append("")
    out += ["#### In Gong's Admin center", ""]
    out += [f"- [ ] {step}" for step in plan.steps()]
    return "\n".join(out) + "\n"


def _json(plan: Plan, title: str, file: str, against: str, env: str | None) -> str:
    def value(path: str, raw: Any) -> Any:
        return "(sensitive)" if raw is not None and show(path, raw) == "(sensitive)" else raw

    payload = {
        "format_version": JSON_FORMAT_VERSION,
        "file": file,
        "against": against,
        "environment": env,
        "creating": plan.creating,
        "summary": {action: plan.count(action) for action in ("add", "change", "remove")},
        "changes": [
            {
                "action": c.action,
                "path": c.path,
                "group": c.group,
                "old": value(c.path, c.old),
                "new": value(c.path, c.new),
                "consequence": c.consequence,
            }
            for c in plan.changes
        ],
        "steps": plan.steps(),
    }
    return json.dumps(payload, indent=2) + "\n"
