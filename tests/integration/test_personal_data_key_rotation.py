"""Rotating the personal-data key while needs keep arriving, then retiring the old key."""

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from services.intake.adapters.personal_data import DEFAULT_KEY_ID, PersonalDataCipher, generate_key
from services.intake.adapters.sealed_national_ids import sealed_per_key
from services.intake.app import create_app
from services.intake.domain.api_keys import Role
from services.intake.settings import IntakeSettings
from services.intake.use_cases.key_rotation import (
    KeyStillNeeded,
    Progress,
    RotationRefused,
    retire_key,
    rotate_personal_data,
)
from shared.database import migrate
from tests.conftest import issue_key
from tests.databases import empty_database
from tests.unit.factories import valid_national_id

KEY_A = generate_key()
KEY_B = generate_key()
ONLY_A = KEY_A  # a lone key, as every setup before rotation existed: its id is "default"
B_THEN_A = f"b:{KEY_B},{DEFAULT_KEY_ID}:{KEY_A}"
ONLY_B = f"b:{KEY_B}"


class SimulatedCrash(Exception):
    """The rotation process dying between two batches."""


@contextlib.asynccontextmanager
async def running_intake(settings: IntakeSettings, personal_data_key: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"personal_data_key": SecretStr(personal_data_key)}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
    ):
        yield client


async def submit(intake: httpx.AsyncClient, key: str, accepted: dict[uuid.UUID, str]) -> None:
    national_id = valid_national_id("1" + "".join(random.choices("0123456789", k=11)))
    response = await intake.post(
        "/v1/needs",
        json={
            "volunteer_id": "vol-33-0001",
            "subdistrict_code": "330101",
            "description": "ตกงานมา 3 เดือน",
            "person": {"name": "สมศรี", "national_id": national_id},
        },
        headers={"Authorization": key},
    )
    assert response.status_code == 202, response.text
    accepted[uuid.UUID(response.json()["need_id"])] = national_id


async def keep_submitting(
    intake: httpx.AsyncClient, key: str, accepted: dict[uuid.UUID, str], stop: asyncio.Event
) -> None:
    """Submit until told to stop; never cut off mid-request, so every need stored is one answered 202."""
    while not stop.is_set():
        await submit(intake, key, accepted)
        await asyncio.sleep(0.005)


@pytest.fixture
async def database(intake_settings: IntakeSettings) -> AsyncIterator[IntakeSettings]:
    """Intake's settings on a database of its own: rotation re-seals a whole database."""
    async with empty_database(intake_settings.database_url) as url:
        await migrate(url)
        yield intake_settings.model_copy(update={"database_url": url})


async def test_rotating_while_needs_arrive_loses_nothing_and_the_old_key_can_then_go(
    database: IntakeSettings,
) -> None:
    pool = await asyncpg.create_pool(database.database_url, min_size=1, max_size=4)
    assert pool is not None
    try:
        app_key = await issue_key(pool, Role.VOLUNTEER_APP, owner="volunteer-app-rotation")
        admin = await issue_key(pool, Role.ADMIN, owner="rotation-admin")
        accepted: dict[uuid.UUID, str] = {}
        async with running_intake(database, ONLY_A) as old_intake:
            for _ in range(60):
                await submit(old_intake, app_key, accepted)
            with pytest.raises(KeyStillNeeded, match="60 national IDs"):
                await retire_key(database.database_url, DEFAULT_KEY_ID, sealing_key_id="b")

            cipher = PersonalDataCipher.from_base64(B_THEN_A)
            progress: list[Progress] = []

            def crash_after_two_batches(step: Progress) -> None:
                progress.append(step)
                if len(progress) == 2:
                    raise SimulatedCrash

            # A rolling restart: the new intake seals with B while the old one still seals with A.
            async with running_intake(database, B_THEN_A) as new_intake:
                stop_old, stop_new = asyncio.Event(), asyncio.Event()
                from_old = asyncio.create_task(keep_submitting(old_intake, app_key, accepted, stop_old))
                from_new = asyncio.create_task(keep_submitting(new_intake, app_key, accepted, stop_new))
                try:
                    with pytest.raises(SimulatedCrash):
                        await rotate_personal_data(pool, cipher, batch_size=7, progress=crash_after_two_batches)
                    assert progress[-1].resealed == 14
                    await rotate_personal_data(pool, cipher, batch_size=7, progress=progress.append)
                    assert progress[-1].key_id == DEFAULT_KEY_ID
                    stop_old.set()
                    await from_old
                    await submit(old_intake, app_key, accepted)  # its last need, under A, before it is stopped
                    with pytest.raises(KeyStillNeeded, match=r"\d+ national IDs are still sealed under key 'default'"):
                        await retire_key(database.database_url, DEFAULT_KEY_ID, sealing_key_id="b")
                    remaining = await rotate_personal_data(pool, cipher, batch_size=7, progress=progress.append)
                    assert DEFAULT_KEY_ID not in remaining
                    assert await retire_key(database.database_url, DEFAULT_KEY_ID, sealing_key_id="b")
                    await asyncio.sleep(0.2)  # needs keep arriving after the retirement too
                finally:
                    stop_old.set()
                    stop_new.set()
                    await asyncio.gather(from_old, from_new)

        async with pool.acquire() as connection:
            assert await sealed_per_key(connection) == {"b": len(accepted)}
            stored = await connection.fetchval("SELECT count(*) FROM needs")
            actions = [row["action"] for row in await connection.fetch("SELECT action FROM audit_log ORDER BY id")]
        assert stored == len(accepted) > 60
        assert actions.count("personal_data_rotation_started") == 3
        assert actions.count("personal_data_rotation_finished") == 2  # the crashed run did not finish
        assert actions.count("retire_personal_data_key") == 1

        async with running_intake(database, ONLY_B) as intake:
            for need_id, national_id in accepted.items():
                response = await intake.post(
                    f"/v1/needs/{need_id}/identity", headers={"Authorization": admin, "Reason": "rotation test"}
                )
                assert response.status_code == 200, response.text
                assert response.json()["national_id"] == national_id

        with pytest.raises(RotationRefused, match="retired"):
            async with running_intake(database, ONLY_A):
                pass
        with pytest.raises(asyncpg.CheckViolationError, match="retired"):
            await pool.execute("UPDATE needs SET national_id_key_id = $1 WHERE need_id = $2",
                               DEFAULT_KEY_ID, next(iter(accepted)))  # fmt: skip
    finally:
        await pool.close()


async def test_rotation_refuses_to_start_without_a_key_that_values_are_sealed_under(
    database: IntakeSettings,
) -> None:
    pool = await asyncpg.create_pool(database.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        app_key = await issue_key(pool, Role.VOLUNTEER_APP, owner="volunteer-app-rotation")
        async with running_intake(database, ONLY_A) as intake:
            await submit(intake, app_key, {})
        with pytest.raises(RotationRefused, match=f"lacks key\\(s\\) {DEFAULT_KEY_ID}"):
            await rotate_personal_data(pool, PersonalDataCipher.from_base64(ONLY_B), batch_size=10, progress=print)
    finally:
        await pool.close()


def needs_router(settings: IntakeSettings, personal_data_key: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PERSONAL_DATA_KEY": personal_data_key}
    return subprocess.run([sys.executable, "-m", "services.cli", "keys", *arguments], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


async def test_the_commands_report_progress_and_say_when_the_old_key_can_go(database: IntakeSettings) -> None:
    pool = await asyncpg.create_pool(database.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        app_key = await issue_key(pool, Role.VOLUNTEER_APP, owner="volunteer-app-rotation")
        async with running_intake(database, ONLY_A) as intake:
            for _ in range(3):
                await submit(intake, app_key, {})
    finally:
        await pool.close()

    rotated = needs_router(database, B_THEN_A, "rotate-personal-data", "--batch-size", "2")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.splitlines() == [
        "key default: 2 of 3 re-sealed",
        "key default: 3 of 3 re-sealed",
        "key b: current, seals 3 national IDs",
        "key default: seals nothing; retire it with `needs-router keys retire-personal-data-key default`,"
        " then remove it from PERSONAL_DATA_KEY",
    ]
    refused = needs_router(database, B_THEN_A, "retire-personal-data-key", "b")
    assert (refused.returncode, refused.stderr) == (
        1,
        "needs-router: key 'b' seals new values (it is first in PERSONAL_DATA_KEY)\n",
    )
    assert needs_router(database, B_THEN_A, "retire-personal-data-key", "default").stdout == "retired default\n"
    assert (
        needs_router(database, ONLY_B, "retire-personal-data-key", "default").stdout == "default was already retired\n"
    )
