"""Fuzzing the loader and validator: whatever comes in, only our diagnostics come out."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from gong_authlib.config.diagnostics import DIAGNOSTIC_CODES
from gong_authlib.config.validate import check_document
from gong_authlib.config.yamlsource import read_source
from gong_authlib.errors import Diagnostic
from tests.helpers import CONFIG_DATA, REPO_ROOT, integration_file

GOOD_TEXT = (CONFIG_DATA / "good.yaml").read_text()
GOOD_DATA = yaml.safe_load(GOOD_TEXT)
YAML_NOISE = [*":-[]{}&*!|>#'\"\t\n ,?%@`x1", "${", "}", "<<", "---", "\x00", "\xe9"]


def _check(raw: bytes) -> list[Diagnostic]:
    found = check_document(read_source(raw, "fuzz.yaml"), base_dir=CONFIG_DATA)
    assert {d.code for d in found} <= DIAGNOSTIC_CODES.keys()
    for diagnostic in found:
        assert diagnostic.severity in ("error", "warning")
        assert diagnostic.line >= 0
        assert diagnostic.column >= 0
    return found


@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    _check(text.encode("utf-8", errors="surrogatepass"))


@st.composite
def mutated_good_file(draw: st.DrawFn) -> str:
    text = GOOD_TEXT
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "dup-line"]))
        noise = draw(st.sampled_from(YAML_NOISE))
        if action == "insert":
            text = text[:position] + noise + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif action == "replace":
            text = text[:position] + noise + text[position + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            text = "".join(lines)
    return text


@given(mutated_good_file())
def test_mutated_valid_files(text: str) -> None:
    _check(text.encode("utf-8", errors="surrogatepass"))


# Hostile leaves too: integers past Python's 4,300-digit conversion limit, infinities, empty
# and control-laden text, bidi overrides and URL-ish values.
HOSTILE_LEAVES = st.one_of(
    st.integers(min_value=10**300, max_value=10**301),  # over the 100-digit bound
    st.sampled_from([float("inf"), float("-inf"), "", "\x1b]0;pwned\x07\x1b[2J", "a\u202eb"]),
    st.sampled_from(
        [
            "http://attacker.example/oauth2/token",
            "postgresql://app:pw@[::1/db",
            "redis://localhost:99999/0?db=x",
            "sqlite:////tmp/a%00b.db",
            "pw${env:X}",
            "${abc}",
        ]
    ),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=5),
)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | HOSTILE_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _all_paths(value, (*prefix, index))
    return paths


PATHS = _all_paths(GOOD_DATA)


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@given(st.sampled_from(PATHS), JSONISH)
def test_structured_values_anywhere(path: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(GOOD_DATA)
    _set(data, path, value)
    _check(yaml.safe_dump(data).encode())


def _variants(count: int) -> list[dict[str, Any]]:
    """Seeded structural variants of the good file: some valid, some not."""
    rng = random.Random(20261129)
    pool: list[Any] = [
        "https://app.acme.example/x",
        "http://127.0.0.1:9000/cb",
        "https://sub.acme.example",
        "api:users:read",
        "api:calls:read:extensive",
        "x@acme.example",
        "acme.example",
        "",
        "text",
        7,
        0,
        True,
        None,
        [],
        {},
        ["api:users:read"],
    ]
    out = []
    for _ in range(count):
        data = copy.deepcopy(GOOD_DATA)
        for _ in range(rng.randint(1, 2)):
            path = rng.choice(_all_paths(data))
            if rng.random() < 0.2 and len(path) > 1:
                parent: Any = data
                for key in path[:-1]:
                    parent = parent[key]
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
                    continue
            _set(data, path, copy.deepcopy(rng.choice(pool)))
        out.append(data)
    return out


def test_whatever_we_accept_check_jsonschema_accepts(tmp_path: Path) -> None:
    accepted = [integration_file(tmp_path, name="good.yaml")]
    for index, data in enumerate(_variants(1000)):
        raw = yaml.safe_dump(data).encode()
        errors = [d for d in _check(raw) if d.is_error]
        if not errors:
            path = tmp_path / f"variant-{index}.yaml"
            path.write_bytes(raw)
            accepted.append(path)
    assert len(accepted) >= 50, "the variants must include valid files for this to mean much"
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [
            str(checker),
            "--schemafile",
            str(REPO_ROOT / "schemas" / "gong-integration.schema.json"),
            *map(str, accepted),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
