"""Scratch schemas on the test PostgreSQL server, one per store under test.

Every test gets schemas of its own, so tests never see each other's rows and
can run against a server that other test runs use too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql


def scratch_name() -> str:
    """Return a schema name no other test uses."""
    return f"tc_test_{uuid.uuid4().hex[:16]}"


@contextmanager
def connection(
    url: str, schema: str | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """Open an autocommit connection, looking in ``schema`` first."""
    with psycopg.connect(url, autocommit=True) as conn:
        if schema is not None:
            path = sql.Identifier(schema).as_string(conn)
            conn.execute("SELECT set_config('search_path', %s, false)", (path,))
        yield conn


def drop_schemas(url: str, names: list[str]) -> None:
    """Drop the given schemas and everything in them."""
    if not names:
        return
    with connection(url) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )
