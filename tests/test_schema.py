"""The JSON Schema: one shipped copy, editor-friendly, and in step with the scope list."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft7Validator

from gong_authlib.config.schema import load_schema, schema_path
from gong_authlib.gong.scopes import KNOWN_SCOPES
from tests.helpers import REPO_ROOT


def _properties(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in node.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from _properties(child, f"{path}.{name}")
    items = node.get("items")
    if isinstance(items, dict):
        yield from _properties(items, f"{path}[]")


def test_schema_is_a_valid_draft07_schema_with_a_versioned_id() -> None:
    schema = load_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith("/v1.schema.json")


def test_every_property_has_title_description_and_examples() -> None:
    missing = [
        path
        for path, node in _properties(load_schema())
        if not {"title", "description", "examples"} <= node.keys()
    ]
    assert missing == []


# Objects keyed by names the user picks (customers, environments), their values typed.
MAPS = {"Per-customer overrides": "string", "Environments": "object"}


def test_every_object_is_closed() -> None:
    def objects(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if node.get("type") == "object":
            yield node
        for child in node.get("properties", {}).values():
            yield from objects(child)

    for node in objects(load_schema()):
        if node["title"] in MAPS:
            assert node["additionalProperties"]["type"] == MAPS[node["title"]]
        else:
            assert node.get("additionalProperties") is False, node["title"]


def test_schema_avoids_anyof_and_oneof() -> None:
    text = json.dumps(load_schema())
    assert '"anyOf"' not in text
    assert '"oneOf"' not in text


def test_scope_examples_match_the_known_scope_list() -> None:
    items = load_schema()["properties"]["integration"]["properties"]["scopes"]["items"]
    assert items["examples"] == sorted(KNOWN_SCOPES)
    assert len(KNOWN_SCOPES) == 44


def test_repository_schema_folder_is_the_shipped_file() -> None:
    top = REPO_ROOT / "schemas" / "gong-integration.schema.json"
    assert top.resolve() == schema_path().resolve()
    assert json.loads(top.read_text()) == load_schema()


def test_store_url_schemes_are_the_ones_open_store_knows() -> None:
    # One home for the schemes: stores.urls.BACKENDS; the schema's pattern must agree with it,
    # or validate would pass a URL open_store refuses (or refuse one it opens).
    from gong_authlib.stores.urls import BACKENDS

    url = load_schema()["properties"]["token_store"]["properties"]["url"]
    schemes = re.search(r"\|\(([a-z|]+)\)://", url["pattern"])
    assert schemes is not None, url["pattern"]
    assert sorted(schemes.group(1).split("|")) == sorted(BACKENDS)
