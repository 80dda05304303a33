"""Databases of their own for tests that act on a whole database (rotate every key, back it up)."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(database_url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def empty_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of ``server_url``, dropped afterwards; yields its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield with_database(server_url, name)
    finally:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await connection.close()
