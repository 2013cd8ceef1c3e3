"""Stores written by the first release gain the state table when opened, tokens intact."""

from __future__ import annotations

import uuid
from typing import LiteralString

from gong_authlib.stores import PostgresTokenStore
from gong_authlib.stores.postgres import SCHEMA_VERSION
from tests.servers import PostgresServer
from tests.test_contract_tokens import make_token

REDIRECT = "https://app.acme.example/oauth/gong/callback"


def test_a_version_1_postgres_store_is_migrated(postgres_server: PostgresServer) -> None:
    import psycopg
    from psycopg import sql

    prefix = f"m_{uuid.uuid4().hex[:10]}"
    tables = {kind: sql.Identifier(f"{prefix}_{kind}") for kind in ("meta", "tokens", "locks")}

    def query(text: LiteralString) -> sql.Composed:
        return sql.SQL(text).format(**tables)

    with psycopg.connect(postgres_server.dsn(), autocommit=True) as db:  # as release 1 left it
        db.execute(query("CREATE TABLE {meta} (key text PRIMARY KEY, value text)"))
        db.execute(query("INSERT INTO {meta} VALUES ('schema_version', '1')"))
        db.execute(
            query(
                "CREATE TABLE {tokens} (customer text PRIMARY KEY, data bytea NOT NULL,"
                " updated_at timestamptz NOT NULL DEFAULT clock_timestamp())"
            )
        )
        db.execute(
            query(
                "CREATE TABLE {locks} (customer text PRIMARY KEY, owner text NOT NULL,"
                " expires_at timestamptz NOT NULL)"
            )
        )
        db.execute(
            query("INSERT INTO {tokens} (customer, data) VALUES ('acme', %s)"),
            (make_token(4).to_json().encode(),),
        )
    with PostgresTokenStore(postgres_server.dsn(), table_prefix=prefix) as store:
        assert store.get("acme") == make_token(4)
        state = store.issue(customer="acme", redirect_uri=REDIRECT)
        assert store.consume(state, redirect_uri=REDIRECT).customer == "acme"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as db:
        row = db.execute(query("SELECT value FROM {meta} WHERE key = 'schema_version'"))
        assert row.fetchone() == (str(SCHEMA_VERSION),)
