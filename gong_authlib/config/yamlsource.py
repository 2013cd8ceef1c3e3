"""Read an untrusted YAML file into plain data, remembering where every key and value stood.

PyYAML's own loaders expand aliases while constructing objects (the "billion laughs" bomb) and
keep the last of two duplicate keys silently. This module drives the event parser directly, so
nothing is expanded, every node is checked before it becomes data, and each problem is reported
with its line and column instead of an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from gong_authlib.config.diagnostics import NodePath, format_path, quoted
from gong_authlib.errors import Diagnostic

# Integration files are a few kilobytes; anything far larger is a mistake or an attack.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
# No field of an integration file needs more; Python refuses over 4,300 when converting.
MAX_INTEGER_DIGITS = 100

_CORE = "tag:yaml.org,2002:"
_ALLOWED_EXPLICIT_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {f"{_CORE}seq", f"{_CORE}map"}

# libyaml's parser is several times faster than the pure-Python one; both give the same events.
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Span(NamedTuple):
    """Where a node stands: 1-based line and column; ``end_column`` is 0 if it spans lines."""

    line: int
    column: int
    end_column: int = 0


@dataclass
class YamlDocument:
    """A parsed file: its data, the text it came from and the position of every node."""

    file: str
    text: str
    data: Any = None
    value_spans: dict[NodePath, Span] = field(default_factory=dict)
    key_spans: dict[NodePath, Span] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def span_of(self, path: NodePath, *, prefer_key: bool = False) -> Span:
        """The span of ``path``, or of its nearest ancestor that has one."""
        probe = path
        while True:
            if prefer_key and probe in self.key_spans:
                return self.key_spans[probe]
            if probe in self.value_spans:
                return self.value_spans[probe]
            if not probe:
                return Span(1, 1)
            probe = probe[:-1]

    def diagnostic(
        self,
        code: str,
        message: str,
        path: NodePath,
        *,
        severity: str = "error",
        at_key: bool = False,
        suggestion: str | None = None,
    ) -> Diagnostic:
        span = self.span_of(path, prefer_key=at_key)
        return Diagnostic(
            severity="warning" if severity == "warning" else "error",
            code=code,
            message=message,
            path=format_path(path),
            line=span.line,
            column=span.column,
            end_column=span.end_column,
            file=self.file,
            suggestion=suggestion,
        )


class _AbortError(Exception):
    """Stops the walk after a problem that leaves nothing sensible to read after it."""


def _span(event: Any) -> Span:
    start, end = event.start_mark, event.end_mark
    end_column = end.column + 1 if end.line == start.line and end.column > start.column else 0
    return Span(start.line + 1, start.column + 1, end_column)


def read_source(raw: bytes, file: str) -> YamlDocument:
    """Decode and parse ``raw``; problems land in ``diagnostics``, never as exceptions."""
    document = YamlDocument(file=file, text="")
    if len(raw) > MAX_FILE_BYTES:
        document.diagnostics.append(
            Diagnostic(
                "error",
                "file-too-large",
                f"file is {len(raw):,} bytes; integration files are limited to "
                f"{MAX_FILE_BYTES:,} bytes",
                file=file,
            )
        )
        return document
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line, column = _position_of_byte(raw, offset)
        document.diagnostics.append(
            Diagnostic(
                "error",
                "binary-file",
                "file contains a NUL byte: this is not a YAML text file",
                line=line,
                column=column,
                file=file,
            )
        )
        return document
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position_of_byte(raw, exc.start)
        document.diagnostics.append(
            Diagnostic(
                "error",
                "encoding",
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                line=line,
                column=column,
                file=file,
            )
        )
        return document
    document.text = text
    _check_tabs(document)
    if document.diagnostics:
        return document
    _parse(document)
    return document


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _check_tabs(document: YamlDocument) -> None:
    for number, line in enumerate(document.text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip() and not line.lstrip().startswith("#"):
            document.diagnostics.append(
                Diagnostic(
                    "error",
                    "tab-indent",
                    "tab used for indentation; YAML allows only spaces here",
                    line=number,
                    column=indent.index("\t") + 1,
                    file=document.file,
                )
            )


def _parse(document: YamlDocument) -> None:
    loader = _Loader(document.text)
    walker = _Walker(loader, document)
    try:
        walker.walk_stream()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark:
            where = exc.context_mark
            problem += f" ({exc.context} at line {where.line + 1}, column {where.column + 1})"
        document.diagnostics.append(
            Diagnostic(
                "error",
                "yaml-syntax",
                f"YAML syntax error: {problem}",
                line=mark.line + 1 if mark else 0,
                column=mark.column + 1 if mark else 0,
                file=document.file,
            )
        )
    except yaml.reader.ReaderError as exc:
        line, column = _position_of_char(document.text, exc.position)
        document.diagnostics.append(
            Diagnostic(
                "error",
                "yaml-syntax",
                f"character U+{_code_point(exc.character):04X} is not allowed in YAML",
                line=line,
                column=column,
                file=document.file,
            )
        )
    except yaml.YAMLError as exc:
        document.diagnostics.append(
            Diagnostic("error", "yaml-syntax", f"YAML error: {exc}", file=document.file)
        )
    except _AbortError:
        pass
    else:
        return
    finally:
        loader.dispose()
    # A syntax error leaves a half-built tree: validating it would only add noise.
    document.data = None


def _code_point(character: str | int) -> int:
    # libyaml reports the offending character as a number, the pure-Python reader as text.
    return character if isinstance(character, int) else ord(character)


def _position_of_char(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


class _Walker:
    """Turns the event stream into plain data, checking each node as it passes."""

    def __init__(self, loader: Any, document: YamlDocument) -> None:
        self.loader = loader
        self.document = document

    def _error(self, code: str, message: str, span: Span, path: NodePath = ()) -> None:
        self.document.diagnostics.append(
            Diagnostic(
                "error",
                code,
                message,
                path=format_path(path),
                line=span.line,
                column=span.column,
                end_column=span.end_column,
                file=self.document.file,
            )
        )

    def walk_stream(self) -> None:
        loader = self.loader
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            self._error("empty-file", "file is empty: expected the integration mapping", Span(1, 1))
            return
        loader.get_event()  # DocumentStartEvent
        self.document.data = self.walk_node((), 0)
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            extra = loader.peek_event()
            self._error(
                "multiple-documents",
                "file holds more than one YAML document; keep one integration per file",
                _span(extra),
            )

    def walk_node(self, path: NodePath, depth: int) -> Any:
        loader = self.loader
        event = loader.get_event()
        span = _span(event)
        self.document.value_spans[path] = span
        if isinstance(event, yaml.AliasEvent):
            self._error(
                "yaml-alias",
                f"alias *{event.anchor} is not allowed: write the value out in full",
                span,
                path,
            )
            return None
        if event.anchor is not None:
            self._error(
                "yaml-anchor",
                f"anchor &{event.anchor} is not allowed: anchors and aliases are rejected",
                span,
                path,
            )
        if depth > MAX_DEPTH:
            self._error("too-deep", f"nesting deeper than {MAX_DEPTH} levels", span, path)
            raise _AbortError
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, span, path)
        if event.tag not in (None, "!") and event.tag not in _COLLECTION_TAGS:
            self._error("yaml-tag", f"custom tag {event.tag} is not allowed", span, path)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not loader.check_event(yaml.SequenceEndEvent):
                items.append(self.walk_node((*path, len(items)), depth + 1))
            loader.get_event()
            return items
        mapping: dict[str, Any] = {}
        first_seen: dict[str, Span] = {}
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = loader.peek_event()
            key_span = _span(key_event)
            if not isinstance(key_event, yaml.ScalarEvent):
                self._error("invalid-key", "mapping keys must be plain names", key_span, path)
                self.walk_node((*path, "<key>"), depth + 1)
                self.walk_node((*path, "<value>"), depth + 1)
                continue
            loader.get_event()
            key = key_event.value
            if key == "<<" and key_event.implicit[0]:
                self._error("yaml-merge", "merge keys (<<) are not allowed", key_span, (*path, key))
            if key in first_seen:
                first = first_seen[key]
                self._error(
                    "duplicate-key",
                    f"duplicate key {quoted(key)}; first defined at line {first.line}",
                    key_span,
                    (*path, key),
                )
                self.walk_node((*path, f"<duplicate {key}>"), depth + 1)
                continue
            first_seen[key] = key_span
            self.document.key_spans[(*path, key)] = key_span
            mapping[key] = self.walk_node((*path, key), depth + 1)
        loader.get_event()
        return mapping

    def _integer(self, node: Any, span: Span, path: NodePath) -> int:
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > MAX_INTEGER_DIGITS:
            # Python refuses to convert integers of over 4,300 digits (a ValueError).
            message = (
                f"an integer of {digits:,} digits; integers here have at most "
                f"{MAX_INTEGER_DIGITS} digits"
            )
            self._error("out-of-range", message, span, path)
            return 0
        value: int = self.loader.construct_yaml_int(node)
        return value

    def scalar(self, event: Any, span: Span, path: NodePath) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag not in _ALLOWED_EXPLICIT_TAGS:
            self._error("yaml-tag", f"custom tag {tag} is not allowed", span, path)
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        if tag == f"{_CORE}null":
            return None
        if tag == f"{_CORE}bool":
            return self.loader.construct_yaml_bool(node)
        if tag == f"{_CORE}int":
            return self._integer(node, span, path)
        if tag == f"{_CORE}float":
            return self.loader.construct_yaml_float(node)
        # Timestamps and everything else stay text: the schema has no date fields, and a
        # datetime object would only turn a plain typo into a confusing type error.
        return event.value
