"""The YAML reader: nothing expanded, nothing silently dropped, every problem positioned."""

from __future__ import annotations

from gong_authlib.config.yamlsource import MAX_FILE_BYTES, read_source

BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""


def _codes(raw: bytes) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in read_source(raw, "x.yaml").diagnostics]


def test_alias_bomb_is_rejected_without_expansion() -> None:
    assert len(BOMB) < 400
    document = read_source(BOMB, "bomb.yaml")
    codes = {d.code for d in document.diagnostics}
    assert codes == {"yaml-anchor", "yaml-alias"}
    # Aliases became placeholders: the largest list holds 9 items, not 9**6.
    assert document.data["f"] == [None] * 9
    first_alias = next(d for d in document.diagnostics if d.code == "yaml-alias")
    assert (first_alias.line, first_alias.column) == (2, 8)


def test_duplicate_key_keeps_the_first_value_and_names_both_lines() -> None:
    document = read_source(b"name: one\nother: 1\nname: two\n", "x.yaml")
    [diagnostic] = document.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("duplicate-key", 3, 1)
    assert "line 1" in diagnostic.message
    assert document.data == {"name": "one", "other": 1}


def test_nul_byte_is_a_binary_file_at_its_position() -> None:
    assert _codes(b"a: 1\nb: \x00\n") == [("binary-file", 2, 4)]


def test_invalid_utf8_is_reported_at_the_byte() -> None:
    assert _codes(b"a: ok\nname: caf\xe9\n") == [("encoding", 2, 10)]


def test_utf8_bom_is_accepted() -> None:
    document = read_source("\ufeffname: café\n".encode(), "x.yaml")
    assert document.diagnostics == []
    assert document.data == {"name": "café"}


def test_oversized_file_is_refused_before_parsing() -> None:
    assert _codes(b"#" * (MAX_FILE_BYTES + 1)) == [("file-too-large", 0, 0)]


def test_control_character_is_a_syntax_error_with_position() -> None:
    assert _codes(b"a: 1\nb: x\x07\n") == [("yaml-syntax", 2, 5)]


def test_deep_nesting_stops_with_a_diagnostic() -> None:
    [(code, line, _)] = _codes(b"[" * 200 + b"]" * 200)
    assert (code, line) == ("too-deep", 1)


def test_custom_tags_are_rejected_but_core_tags_allowed() -> None:
    document = read_source(b"a: !!str 12\nb: !secret x\n", "x.yaml")
    assert [(d.code, d.line) for d in document.diagnostics] == [("yaml-tag", 2)]
    assert document.data["a"] == "12"


def test_scalar_types_follow_yaml_but_dates_stay_text() -> None:
    document = read_source(b"n: 3\nf: 1.5\nb: true\nz: ~\nd: 2024-01-01\n", "x.yaml")
    assert document.data == {"n": 3, "f": 1.5, "b": True, "z": None, "d": "2024-01-01"}


def test_tabs_in_comments_and_values_are_fine() -> None:
    assert _codes(b"a: x\tb\n#\tcomment\n") == []


def test_spans_point_at_keys_and_values() -> None:
    document = read_source(b"outer:\n  inner: [a, bb]\n", "x.yaml")
    assert document.key_spans[("outer", "inner")].line == 2
    span = document.value_spans[("outer", "inner", 1)]
    assert (span.line, span.column, span.end_column) == (2, 14, 16)
