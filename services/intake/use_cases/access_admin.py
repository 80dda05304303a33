"""Operators' work on access: creating and revoking keys, reading the audit trail."""

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import asyncpg

from services.intake.adapters import access_store as store
from services.intake.domain.api_keys import InvalidKeyScope, NewKey, Role
from shared.contracts.area_offices import area_offices
from shared.contracts.need_types import Agency
from shared.contracts.offices import InvalidOfficeName, Office


async def create_api_key(
    database_url: str,
    *,
    role: str,
    owner: str | None,
    agency: str | None,
    provinces: Sequence[str],
    valid_days: float,
    offices: Sequence[str] = (),
) -> NewKey:
    """Create a key; its token is returned once. ``offices``: known area offices, e.g. ``doe.10.area3``.

    Raises InvalidKeyScope, naming an office that is not a known area office of the key's agency.
    """
    try:
        scoped = [area_offices().known(Office.parse(name)) for name in offices]
    except InvalidOfficeName as invalid:
        raise InvalidKeyScope(f"--office: {invalid}") from None
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            key = await store.create_key(
                connection, role=Role(role), owner=owner, agency=Agency(agency) if agency else None,
                provinces=provinces, valid_for=timedelta(days=valid_days), offices=scoped,
            )  # fmt: skip
            await store.audit(connection, actor=None, action="create_key", need_id=None,
                              detail={"key_id": key.key_id, "role": role, "agency": agency,
                                      "offices": [office.name for office in scoped]})  # fmt: skip
    finally:
        await connection.close()
    return key


async def revoke_api_key(database_url: str, key_id: str) -> bool:
    """Revoke a key; intake stops accepting it within its key cache time (5 s)."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            revoked = await store.revoke_key(connection, key_id)
            if revoked:
                await store.audit(connection, actor=None, action="revoke_key", need_id=None, detail={"key_id": key_id})
    finally:
        await connection.close()
    return revoked


async def audit_trail(database_url: str, need_id: UUID) -> list[dict[str, object]]:
    """The audit lines of one need, oldest first, ready to print as JSON."""
    connection = await asyncpg.connect(database_url)
    try:
        entries = await store.audit_trail(connection, need_id)
    finally:
        await connection.close()
    return [
        {"at": entry.at.isoformat(), "actor_key_id": entry.actor_key_id, "actor_role": entry.actor_role,
         "action": entry.action, "detail": entry.detail}
        for entry in entries
    ]  # fmt: skip
