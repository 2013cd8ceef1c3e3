"""Validation of an integration file: YAML structure, then the schema, then Gong's rules.

This module is the pre-commit path: it imports PyYAML and (lazily) jsonschema, and nothing
from the HTTP side of the library.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from gong_authlib.config.diagnostics import did_you_mean, quoted, sort_key
from gong_authlib.config.environments import (
    environment_names,
    first_environments,
    merged_documents,
)
from gong_authlib.config.rules import rule_diagnostics
from gong_authlib.config.schema import schema_diagnostics
from gong_authlib.config.yamlsource import MAX_FILE_BYTES, YamlDocument, read_source
from gong_authlib.errors import Diagnostic

# Each environment is checked as a whole file; real files have a handful (production, staging,
# Gong's developer instance). The bound keeps a hostile file from multiplying the work.
MAX_ENVIRONMENTS = 50


def read_document(path: str | os.PathLike[str]) -> YamlDocument:
    """Read and parse ``path``; an unreadable file becomes a diagnostic, not an exception."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return _unreadable(name, "file not found")
    except IsADirectoryError:
        return _unreadable(name, "is a folder, not a file")
    except OSError as exc:
        return _unreadable(name, exc.strerror or "cannot be read")
    except ValueError:  # a NUL byte in the name: no such file can exist
        return _unreadable(name, "the file name contains a NUL byte")
    return read_source(raw, name)


def folder_of(path: str | os.PathLike[str]) -> Path:
    """The folder relative paths in the file are resolved against (the cwd if unresolvable)."""
    try:
        return Path(path).resolve().parent
    except (OSError, ValueError):
        return Path.cwd()


def _unreadable(name: str, reason: str) -> YamlDocument:
    document = YamlDocument(file=name, text="")
    document.diagnostics.append(Diagnostic("error", "unreadable-file", reason, file=name))
    return document


def _validation_settings(document: YamlDocument) -> dict[str, object]:
    data = document.data
    validation = data.get("validation") if isinstance(data, dict) else None
    return validation if isinstance(validation, dict) else {}


def _file_extra_scopes(document: YamlDocument) -> list[str]:
    scopes = _validation_settings(document).get("extra_scopes")
    return [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []


def check_document(
    document: YamlDocument,
    *,
    base_dir: Path,
    extra_scopes: Collection[str] = (),
    environment: str | None = None,
    strict_scopes: bool = False,
) -> list[Diagnostic]:
    """All diagnostics of a parsed document, sorted by position.

    Without ``environment``, the file and every environment's merged result are checked;
    with it, only that environment's merged result. ``strict_scopes`` (or the file's
    ``validation.strict_scopes``) makes every unknown scope an error.
    """
    found = list(document.diagnostics)
    if document.data is None and found:
        return sorted(found, key=sort_key)
    structural = {d.path for d in document.diagnostics}
    names = environment_names(document.data)
    if environment is not None and environment not in names:
        found.append(_unknown_environment(document, environment, names))
        return sorted(found, key=sort_key)
    if environment is None and len(names) > MAX_ENVIRONMENTS:
        found.append(_too_many_environments(document, len(names)))
        names = names[:MAX_ENVIRONMENTS]
        document = first_environments(document, MAX_ENVIRONMENTS)
    seen: set[tuple[str, int, int]] = set()
    if environment is None:
        for diagnostic in _content_diagnostics(
            document, base_dir, extra_scopes, structural, strict_scopes
        ):
            seen.add((diagnostic.code, diagnostic.line, diagnostic.column))
            found.append(diagnostic)
    chosen = [environment] if environment else names
    for name, merged in zip(chosen, merged_documents(document, chosen), strict=True):
        for diagnostic in _content_diagnostics(
            merged, base_dir, extra_scopes, structural, strict_scopes
        ):
            key = (diagnostic.code, diagnostic.line, diagnostic.column)
            if key not in seen:  # the same finding in the base file is reported once
                seen.add(key)
                message = f"in environment {quoted(name)}: {diagnostic.message}"
                found.append(replace(diagnostic, message=message))
    return sorted(found, key=sort_key)


def _content_diagnostics(
    document: YamlDocument,
    base_dir: Path,
    extra_scopes: Collection[str],
    structural: set[str],
    strict_scopes: bool,
) -> list[Diagnostic]:
    schema_found = schema_diagnostics(document)
    extras = [*extra_scopes, *_file_extra_scopes(document)]
    strict = strict_scopes or _validation_settings(document).get("strict_scopes") is True
    found = rule_diagnostics(document, base_dir, extras, strict_scopes=strict)
    merged = _merge(schema_found, found)
    # A node YAML already complained about (an alias, a custom tag) holds a placeholder: what
    # the schema or the rules would say about it is noise.
    return [d for d in merged if d.path not in structural]


def _too_many_environments(document: YamlDocument, count: int) -> Diagnostic:
    return document.diagnostic(
        "too-many-environments",
        f"{count:,} environments; a file may define at most {MAX_ENVIRONMENTS}, and only the "
        f"first {MAX_ENVIRONMENTS} were checked",
        ("environments",),
        at_key=True,
    )


def _unknown_environment(document: YamlDocument, name: str, names: list[str]) -> Diagnostic:
    suggestion = did_you_mean(name, names)
    known = ", ".join(names) or "none"
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    return document.diagnostic(
        "unknown-environment",
        f"no environment {quoted(name)} in this file (it defines: {known}){hint}",
        ("environments",),
        at_key=True,
        suggestion=suggestion,
    )


def _merge(schema_found: list[Diagnostic], rules_found: list[Diagnostic]) -> list[Diagnostic]:
    """One finding per node: a rule with a suggestion beats the schema's generic message."""
    suggested = {d.path for d in rules_found if d.suggestion and d.is_error}
    kept = [d for d in schema_found if d.path not in suggested]
    schema_paths = {d.path for d in kept if d.is_error}
    kept.extend(d for d in rules_found if d.path in suggested or d.path not in schema_paths)
    return kept


def validate_file(
    path: str | os.PathLike[str],
    *,
    extra_scopes: Collection[str] = (),
    environment: str | None = None,
    strict_scopes: bool = False,
) -> list[Diagnostic]:
    """Every diagnostic for the integration file at ``path`` (errors and warnings).

    ``${env:NAME}`` references are checked for shape only, so this works where the secrets are
    not set (pre-commit, CI); :func:`load_config` resolves them.
    """
    document = read_document(path)
    return check_document(
        document,
        base_dir=folder_of(path),
        extra_scopes=extra_scopes,
        environment=environment,
        strict_scopes=strict_scopes,
    )
