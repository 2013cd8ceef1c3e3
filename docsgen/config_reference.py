"""The integration file reference: every key from the JSON Schema, every diagnostic code with
the message the validator really prints for a sample of it.

The samples are the repository's own bad files (``tests/data/config/bad/<code>.yaml``, each
also a test of its code) plus a few made here for problems a YAML file cannot show by its text
(bytes that are not UTF-8, a NUL byte, a missing file...). A code with no sample is rendered
without an example, and ``tests/test_docs_site.py`` fails, so a new code cannot go unexplained.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from gong_authlib.config.diagnostics import DIAGNOSTIC_CODES
from gong_authlib.config.schema import load_schema
from gong_authlib.config.validate import validate_file
from gong_authlib.config.yamlsource import MAX_DEPTH, MAX_FILE_BYTES
from gong_authlib.errors import ConfigError, Diagnostic

REPO_ROOT = Path(__file__).resolve().parent.parent
BAD_FILES = REPO_ROOT / "tests" / "data" / "config" / "bad"
GOOD_FILE = REPO_ROOT / "tests" / "data" / "config" / "good.yaml"


def _type(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array" and isinstance(node.get("items"), Mapping):
        inner = node["items"].get("type")
        return f"list of {inner}s" if isinstance(inner, str) else "list"
    return str(kind or "any")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def schema_keys(
    schema: Mapping[str, Any] | None = None,
) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """``(dotted path, schema node, required)`` for every key, parents before children."""
    if schema is None:
        schema = load_schema()

    def walk(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
        required = set(node.get("required", ()))
        for name, child in node.get("properties", {}).items():
            path = f"{prefix}{name}"
            yield path, child, name in required
            yield from walk(child, path + ".")
            items = child.get("items")
            if isinstance(items, Mapping) and "properties" in items:
                yield from walk(items, path + "[].")

    yield from walk(schema, "")


def render_keys() -> str:
    lines = ["| key | type | required | meaning | example |", "|---|---|---|---|---|"]
    for path, node, required in schema_keys():
        meaning = node.get("description", "")
        if "default" in node:
            meaning += f" Default: `{json.dumps(node['default'])}`."
        examples = node.get("examples") or []
        example = (
            f"`{json.dumps(examples[0])}`" if examples and not isinstance(examples[0], dict) else ""
        )
        lines.append(
            f"| `{path}` | {_type(node)} | {'yes' if required else ''} | "
            f"{_cell(meaning)} | {_cell(example)} |"
        )
    return "\n".join(lines) + "\n"


def _validate_bytes(data: bytes, **options: Any) -> list[Diagnostic]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gong-integration.yaml"
        path.write_bytes(data)
        return validate_file(path, **options)


def _good() -> str:
    # The logos are named relative to the file: point them at the sample's own.
    assets = str(GOOD_FILE.parent / "assets") + "/"
    return GOOD_FILE.read_text(encoding="utf-8").replace(" assets/", " " + assets)


def _unreadable() -> list[Diagnostic]:
    with tempfile.TemporaryDirectory() as folder:
        return validate_file(Path(folder) / "gong-integration.yaml")


def _too_many_environments() -> list[Diagnostic]:
    many = "".join(f"  e{i}: {{}}\n" for i in range(51))
    return _validate_bytes((_good() + "environments:\n" + many).encode())


def _env_unset() -> list[Diagnostic]:
    from gong_authlib.config.model import load_config

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gong-integration.yaml"
        path.write_text(_good(), encoding="utf-8")
        try:
            load_config(path, environ={})
        except ConfigError as exc:
            return list(exc.diagnostics)
    return []


def _access_ips(entries: str) -> Callable[[], list[Diagnostic]]:
    """The good file with ``integration.trusted_ips.access_token: [entries]``."""
    line = "    access_token: [203.0.113.7, 198.51.100.0/24]\n"
    return lambda: _validate_bytes(
        _good().replace(line, f"    access_token: [{entries}]\n").encode()
    )


def _without_trusted_ips() -> list[Diagnostic]:
    kept = [
        line
        for line in _good().splitlines(keepends=True)
        if not line.startswith(("  trusted_ips:", "    access_token:", "    refresh_token:"))
    ]
    return _validate_bytes("".join(kept).encode())


# Samples for the codes a bad file in tests/data cannot show (or, for a code about something
# absent, shows only by leaving it out of the good file).
MADE_SAMPLES: Mapping[str, Callable[[], list[Diagnostic]]] = {
    "unreadable-file": _unreadable,
    "file-too-large": lambda: _validate_bytes(b"#" * (MAX_FILE_BYTES + 1)),
    "binary-file": lambda: _validate_bytes(b"version: 1\x00\n"),
    "encoding": lambda: _validate_bytes(b"version: 1\nintegration:\n  name: Acme \xff\n"),
    "empty-file": lambda: _validate_bytes(b""),
    "too-deep": lambda: _validate_bytes(("x: " + "[" * (MAX_DEPTH + 2)).encode()),
    "unknown-environment": lambda: _validate_bytes(_good().encode(), environment="staging"),
    "too-many-environments": _too_many_environments,
    "env-unset": _env_unset,
    "missing-trusted-ips": _without_trusted_ips,
    "invalid-ip": _access_ips("203.0.113.300"),
    "private-ip": _access_ips("10.1.2.3"),
    "broad-ip-range": _access_ips("0.0.0.0/0"),
}


def sample(code: str) -> Diagnostic | None:
    """The first diagnostic of ``code`` the validator gives for this code's sample."""
    bad = BAD_FILES / f"{code}.yaml"
    if bad.is_file():
        found = validate_file(bad)
    elif code in MADE_SAMPLES:
        found = MADE_SAMPLES[code]()
    else:
        return None
    return next((d for d in found if d.code == code), None)


def render_codes() -> str:
    out = []
    for code, meaning in DIAGNOSTIC_CODES.items():
        out += [f"### `{code}` {{#{code}}}", "", meaning[0].upper() + meaning[1:] + ".", ""]
        found = sample(code)
        if found is None:
            out += ["*(no example yet)*", ""]
            continue
        text = f"{found.severity}[{found.code}]: {found.message}"
        if found.suggestion:
            text += f"\n  = help: did you mean {found.suggestion!r}?"
        out += ["```text", text, "```", ""]
    return "\n".join(out)
