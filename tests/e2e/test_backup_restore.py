"""Back up a running system, restore it into an empty database, and carry on from there."""

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.databases import with_database
from tests.e2e.harness import Pipeline, own_pipeline, submit_needs
from tests.polling import eventually, wait_until_ready


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    with own_pipeline() as running:
        yield running


def needs_router(
    pipeline: Pipeline, *arguments: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The operator's command, in its own process, on the pipeline's configuration."""
    env = {**pipeline.env, "DATABASE_URL": database_url or pipeline.env["DATABASE_URL"]}
    return subprocess.run([sys.executable, "-m", "services.cli", *arguments], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


async def views(pipeline: Pipeline, need_ids: list[str]) -> dict[str, Any]:
    """Each need as intake answers for it: status, cases and timeline; None where there is no such need."""
    headers = {"Authorization": f"Bearer {pipeline.app_key}"}
    async with httpx.AsyncClient(base_url=pipeline.intake_url, headers=headers, timeout=30) as client:
        answers = await asyncio.gather(*(client.get(f"/v1/needs/{need_id}") for need_id in need_ids))
    return {
        need_id: answer.json() if answer.status_code == 200 else None
        for need_id, answer in zip(need_ids, answers, strict=True)
    }


async def all_routed(pipeline: Pipeline, need_ids: list[str], *, timeout_s: float) -> dict[str, Any]:
    found = await eventually(
        lambda: views(pipeline, need_ids),
        lambda seen: all(view and view["status"] == "routed" for view in seen.values()),
        timeout_s=timeout_s,
    )
    assert all(view and view["status"] == "routed" for view in found.values()), found
    return found


def restart_services_on(pipeline: Pipeline, database_url: str) -> None:
    for service in [s for name in ("intake", "screening", "routing") for s in pipeline.running(name)]:
        pipeline.stop_gracefully(service)
    pipeline.env["DATABASE_URL"] = database_url
    for name in ("intake", "screening", "routing"):
        pipeline.start(name)
    wait_until_ready(pipeline.intake_url)


async def test_a_restored_backup_has_every_need_with_its_timeline_and_the_pipeline_goes_on(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    before_backup = (await submit_needs(pipeline, 16)).need_ids
    routed = await all_routed(pipeline, before_backup, timeout_s=90)
    archive = tmp_path / "needs.dump"

    backed_up = needs_router(pipeline, "backup", str(archive))
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"{len(before_backup)} needs" in backed_up.stdout
    after_backup = (await submit_needs(pipeline, 1)).need_ids
    again = needs_router(pipeline, "backup", str(archive))
    assert again.returncode == 1
    assert "a backup never replaces another" in again.stderr

    refused = needs_router(pipeline, "restore", str(archive))
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    original_url = pipeline.env["DATABASE_URL"]
    connection = await asyncpg.connect(original_url)
    try:
        await connection.execute("CREATE DATABASE restored")
    finally:
        await connection.close()
    restored_url = with_database(original_url, "restored")
    restored = needs_router(pipeline, "restore", str(archive), database_url=restored_url)
    assert restored.returncode == 0, restored.stderr
    assert f"{len(before_backup)} needs" in restored.stdout

    await asyncio.to_thread(restart_services_on, pipeline, restored_url)

    assert await views(pipeline, before_backup) == routed
    assert await views(pipeline, after_backup) == {after_backup[0]: None}, "accepted after the backup: lost"
    new = (await submit_needs(pipeline, 1)).need_ids
    [(_, view)] = (await all_routed(pipeline, new, timeout_s=90)).items()
    assert view["routed_to"]
    assert [entry["step"] for entry in view["timeline"]] == ["accepted", "screened", "routed"]
