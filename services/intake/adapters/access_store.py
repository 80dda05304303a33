"""API keys and the audit trail in PostgreSQL."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.intake.domain.api_keys import NewKey, Principal, Role, check_scope, is_usable, new_key, secret_matches
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.database import Connection


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key's record, without its secret."""

    principal: Principal
    secret_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def accepts(self, secret: str, *, now: datetime) -> bool:
        """The secret is this key's, and the key is neither revoked nor expired."""
        return secret_matches(secret, self.secret_hash) and is_usable(
            now=now, expires_at=self.expires_at, revoked_at=self.revoked_at
        )


async def create_key(
    connection: Connection,
    *,
    role: Role,
    owner: str | None,
    agency: Agency | None,
    provinces: Sequence[str],
    valid_for: timedelta | None,
    offices: Sequence[Office] = (),
) -> NewKey:
    """Store a new key's hash and scope (provinces and area offices); the caller shows the token once."""
    check_scope(role, agency, offices)
    key = new_key()
    await connection.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, owner, agency, provinces, offices, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        key.key_id, key.secret_hash, role.value, owner or key.key_id, agency.value if agency else None,
        sorted(set(provinces)), sorted({office.name for office in offices}),
        datetime.now(UTC) + valid_for if valid_for else None,
    )  # fmt: skip
    return key


async def revoke_key(connection: Connection, key_id: str) -> bool:
    """Revoke a key; False if there is no such key or it was already revoked."""
    result: str = await connection.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return result.endswith(" 1")


async def find_key(connection: Connection, key_id: str) -> StoredKey | None:
    """The key with this id, whatever its state."""
    row = await connection.fetchrow(
        "SELECT key_id, secret_hash, role, owner, agency, provinces, offices, expires_at, revoked_at"
        " FROM api_keys WHERE key_id = $1",
        key_id,
    )
    if row is None:
        return None
    principal = Principal(
        key_id=row["key_id"],
        role=Role(row["role"]),
        owner=row["owner"],
        agency=Agency(row["agency"]) if row["agency"] else None,
        provinces=frozenset(row["provinces"]),
        offices=frozenset(Office.parse(name) for name in row["offices"]),
    )
    return StoredKey(principal, row["secret_hash"], row["expires_at"], row["revoked_at"])


async def audit(
    connection: Connection,
    *,
    actor: Principal | None,
    action: str,
    need_id: UUID | None,
    detail: dict[str, object] | None = None,
) -> None:
    """Append one line to the audit trail."""
    await connection.execute(
        "INSERT INTO audit_log (actor_key_id, actor_role, action, need_id, detail) VALUES ($1, $2, $3, $4, $5)",
        actor.key_id if actor else None, actor.role.value if actor else None, action, need_id,
        json.dumps(detail or {}, ensure_ascii=False),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail."""

    at: datetime
    actor_key_id: str | None
    actor_role: str | None
    action: str
    detail: dict[str, object]


async def audit_trail(connection: Connection, need_id: UUID) -> list[AuditEntry]:
    """Everything done to one need, oldest first; its creation comes from the need's own row."""
    rows = await connection.fetch(
        """
        SELECT * FROM (
            SELECT submitted_at AS at, NULL AS actor_key_id, NULL AS actor_role, 'create' AS action,
                   jsonb_build_object('submitted_by', submitted_by) AS detail, 0 AS id
            FROM needs WHERE need_id = $1
            UNION ALL
            SELECT at, actor_key_id, actor_role, action, detail, id FROM audit_log WHERE need_id = $1
        ) AS trail ORDER BY id
        """,
        need_id,
    )
    return [
        AuditEntry(row["at"], row["actor_key_id"], row["actor_role"], row["action"], json.loads(row["detail"]))
        for row in rows
    ]
