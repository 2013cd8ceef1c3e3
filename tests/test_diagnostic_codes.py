"""Every diagnostic code has one home, DIAGNOSTIC_CODES, and the code that emits it agrees.

A new rule names its code where it yields the finding; this test ties that literal to the one
list (which `--format json` readers rely on and the docs' rule reference is made from), and
finds codes listed but emitted nowhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gong_authlib.config
from gong_authlib.config.diagnostics import DIAGNOSTIC_CODES

CONFIG = Path(gong_authlib.config.__file__).parent
# The calls that make a finding, with the code as their first argument.
EMITTERS = frozenset({"error", "warning", "diagnostic", "_error"})


def _trees() -> list[ast.Module]:
    return [ast.parse(path.read_text()) for path in sorted(CONFIG.rglob("*.py"))]


def emitted_codes() -> set[str]:
    codes = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0]
            is_text = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in EMITTERS and is_text:
                codes.add(first.value)  # type: ignore[attr-defined]
    return codes


def test_every_emitted_code_is_listed() -> None:
    emitted = emitted_codes()
    assert emitted, "the emitter scan found nothing: EMITTERS is out of date"
    assert emitted - DIAGNOSTIC_CODES.keys() == set()


def test_every_listed_code_is_emitted_somewhere() -> None:
    # Listed codes appear once in DIAGNOSTIC_CODES and at least once more where they are made
    # (directly, or in a table such as the schema keyword map).
    counts: dict[str, int] = {}
    for tree in _trees():
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and value in DIAGNOSTIC_CODES:
                counts[value] = counts.get(value, 0) + 1
    dead = sorted(code for code in DIAGNOSTIC_CODES if counts.get(code, 0) < 2)
    assert dead == []


def test_every_code_says_what_it_means() -> None:
    # The docs' rule reference is generated from these meanings: none may be blank.
    blank = [code for code, meaning in DIAGNOSTIC_CODES.items() if len(meaning.split()) < 3]
    assert blank == []
