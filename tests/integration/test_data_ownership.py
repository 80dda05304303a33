"""Each service connects as its own role, which reads its own schema and no other service's."""

import json
import uuid

import asyncpg
import pytest

from shared.database import migrate, migration_files
from shared.settings import SERVICES, InfrastructureSettings, Service
from tests.databases import empty_database

FIRST_SCHEMA_MIGRATION = 11

# Intake keeps its own copy of screening's and routing's events and routing asks intake for
# contacts through a function (issue 14): no role reads another service's tables.
REMAINING_CROSS_READS: dict[Service, set[str]] = {"intake": set(), "screening": set(), "routing": set(), "inbox": set()}
# The interfaces a service publishes as functions, and who may call each (shared/service_roles.sql).
INTERFACES = {
    "intake.consented_contacts(ARRAY[]::uuid[])": "routing",
    "screening.shadow_disagreements_report(1, 10)": "intake",
}


async def _relations(settings: InfrastructureSettings) -> dict[str, list[str]]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT schemaname, tablename AS name FROM pg_tables WHERE schemaname = ANY($1::text[])"
            " UNION ALL SELECT schemaname, viewname FROM pg_views WHERE schemaname = ANY($1::text[])",
            [*SERVICES, "platform"],
        )
    finally:
        await connection.close()
    relations: dict[str, list[str]] = {}
    for row in rows:
        relations.setdefault(row["schemaname"], []).append(f"{row['schemaname']}.{row['name']}")
    return relations


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_reads_its_own_tables_and_is_refused_every_other(
    settings: InfrastructureSettings, service: Service
) -> None:
    relations = await _relations(settings)
    connection = await asyncpg.connect(settings.service_database_url(service))
    try:
        assert await connection.fetchval("SELECT current_user") == f"needs_{service}"
        for own in relations[service]:
            await connection.fetch(f"SELECT * FROM {own} LIMIT 1")
        readable, refused = set(), set()
        foreign = [name for schema, names in relations.items() if schema != service for name in names]
        for relation in foreign:
            try:
                await connection.fetch(f"SELECT * FROM {relation} LIMIT 1")
                readable.add(relation)
            except asyncpg.InsufficientPrivilegeError:
                refused.add(relation)
    finally:
        await connection.close()
    assert readable == REMAINING_CROSS_READS[service]
    assert refused == set(foreign) - REMAINING_CROSS_READS[service]
    # The audit trail is refused to every service, and the people's records to every other.
    assert "platform.audit_log" in refused
    assert service == "intake" or "intake.needs" in refused


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_appends_to_the_platform_tables_but_cannot_change_them(
    settings: InfrastructureSettings, service: Service
) -> None:
    connection = await asyncpg.connect(settings.service_database_url(service))
    try:
        async with connection.transaction():
            await connection.execute("INSERT INTO platform.audit_log (action, detail) VALUES ('ownership-test', '{}')")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute("DELETE FROM platform.dead_letters WHERE false")
    finally:
        await connection.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_calls_only_the_interfaces_granted_to_it(
    settings: InfrastructureSettings, service: Service
) -> None:
    connection = await asyncpg.connect(settings.service_database_url(service))
    try:
        for call, caller in INTERFACES.items():
            if service == caller:
                await connection.fetch(f"SELECT * FROM {call}")
            else:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await connection.fetch(f"SELECT * FROM {call}")
    finally:
        await connection.close()


async def test_routing_gets_a_contact_only_where_the_person_consented(
    settings: InfrastructureSettings, pool: asyncpg.Pool
) -> None:
    consented, refused = uuid.uuid4(), uuid.uuid4()
    await pool.executemany(
        "INSERT INTO intake.needs (need_id, volunteer_id, request_digest, subdistrict_code, district_code,"
        " province_code, description, submitted_at, event_payload, person_name, person_phone, national_id_masked,"
        " consent_to_share) VALUES ($1, 'vol-c', 'digest', '330101', '3301', '33', 'ตกงาน', now(), '\\x7b7d',"
        " 'สมศรี', '0811111111', 'x-xxxx-xxxxx-12-3', $2)",
        [(consented, True), (refused, False)],
    )
    routing = await asyncpg.connect(settings.service_database_url("routing"))
    try:
        rows = await routing.fetch(
            "SELECT need_id, volunteer_id, consent_to_share, person_name, person_phone, national_id_masked"
            " FROM intake.consented_contacts($1::uuid[])",
            [consented, refused],
        )
    finally:
        await routing.close()
    contacts = {row["need_id"]: tuple(row)[1:] for row in rows}
    assert contacts == {
        consented: ("vol-c", True, "สมศรี", "0811111111", "x-xxxx-xxxxx-12-3"),
        refused: ("vol-c", False, None, None, None),
    }


async def test_corrections_are_screenings_own_no_other_service_writes_them(settings: InfrastructureSettings) -> None:
    for service in ("intake", "routing"):
        connection = await asyncpg.connect(settings.service_database_url(service))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "INSERT INTO screening.screening_corrections (need_id, corrected_by, description,"
                    " classified_types, corrected_agency, reason, corrected_at)"
                    " VALUES ($1, 'mol', 'x', '{}', 'dsd', 'x', now())",
                    uuid.uuid4(),
                )
        finally:
            await connection.close()


async def test_a_database_from_before_the_schemas_is_upgraded_in_place(settings: InfrastructureSettings) -> None:
    need_id, screened_event, case_event, report_event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    screened = json.dumps({"event_id": str(screened_event), "need": {"description": "ตกงาน"}, "types": []})
    async with empty_database(settings.database_url) as url:
        connection = await asyncpg.connect(url)
        try:
            # The database as the last release left it: every table in public, with a routed need.
            for version, _name, sql in migration_files():
                if version < FIRST_SCHEMA_MIGRATION:
                    await connection.execute(sql)
            await connection.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            await connection.executemany(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                [(version, name) for version, name, _ in migration_files() if version < FIRST_SCHEMA_MIGRATION],
            )
            await connection.execute(
                "INSERT INTO needs (need_id, volunteer_id, request_digest, subdistrict_code, district_code,"
                " province_code, description, submitted_at, event_payload)"
                " VALUES ($1, 'vol-1', 'digest', '330101', '3301', '33', 'ตกงาน', now(), '\\x7b7d')",
                need_id,
            )
            await connection.execute(
                "INSERT INTO screenings (need_id, event_id, types, language, classifier_version, screened_at,"
                " event_payload) VALUES ($1, $2, '[]', 'th', 'v1', now(), $3)",
                need_id, screened_event, screened.encode(),
            )  # fmt: skip
            await connection.execute(
                "INSERT INTO routed_cases (event_id, need_id, agency, province_code, topic, types,"
                " manual_screening, routed_at) VALUES ($1, $2, 'mol', '33', 'agency.mol.33', '{}', true, now())",
                case_event, need_id,
            )  # fmt: skip
            await connection.execute(
                "UPDATE routed_cases SET status = 'accepted', status_at = now(), accepted_at = now()"
            )
            await connection.execute(
                "INSERT INTO case_status_history (event_id, need_id, agency, status, note, reported_at)"
                " VALUES ($1, $2, 'mol', 'accepted', 'รับเรื่อง', now())",
                report_event, need_id,
            )  # fmt: skip
        finally:
            await connection.close()

        applied = await migrate(url)

        assert applied[0].startswith(f"{FIRST_SCHEMA_MIGRATION:04d}_")
        upgraded = settings.model_copy(update={"database_url": url})
        intake = await asyncpg.connect(upgraded.service_database_url("intake"))
        routing = await asyncpg.connect(upgraded.service_database_url("routing"))
        try:
            assert await intake.fetchval("SELECT volunteer_id FROM needs WHERE need_id = $1", need_id) == "vol-1"
            kept = await routing.fetchval("SELECT event_payload FROM screened_needs WHERE need_id = $1", need_id)
            assert json.loads(kept)["event_id"] == str(screened_event)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await routing.fetch("SELECT * FROM intake.needs")
            # Intake's own copy is built from what was stored: the need's status reads as before.
            screened_copy = await intake.fetchval("SELECT event_id FROM screening_results WHERE need_id = $1", need_id)
            assert screened_copy == screened_event
            case = await intake.fetchrow("SELECT event_id, status FROM need_cases WHERE need_id = $1", need_id)
            assert tuple(case) == (case_event, "accepted")
            report = await intake.fetchrow("SELECT event_id, note FROM case_reports WHERE need_id = $1", need_id)
            assert tuple(report) == (report_event, "รับเรื่อง")
        finally:
            await intake.close()
            await routing.close()
