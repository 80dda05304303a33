"""Schemathesis sends generated, mostly malformed requests to intake as each role: every answer must be
exactly what the OpenAPI document says (status, body, headers), and none a 5xx."""

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from services.intake.domain.api_keys import Role
from services.intake.settings import IntakeSettings
from shared.contracts.need_types import Agency
from tests.conftest import intake_process, issue_key

MINIMUM_REQUESTS = 1000
# No --checks on the command line: schemathesis 4 runs every check by default, and checks named there
# would override the few per-operation exceptions this file makes (each with its reason).
SETTINGS = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def intake_url(intake_settings: IntakeSettings) -> Iterator[str]:
    """Intake that waits 0.1 s, not 5, for its copy of a case routing decided before a status report on it.

    No routing runs here, so each report on a stored need would wait the whole time (as admin, 140
    of this module's 190 s in CI) for a case that never comes; that wait is not what is fuzzed.
    """
    with intake_process(intake_settings, PROJECTION_WAIT_S="0.1") as url:
        yield url


@pytest.fixture(scope="module")
async def role_keys(pool: asyncpg.Pool, volunteer_app: dict[str, str], admin: dict[str, str]) -> dict[str, str]:
    """An Authorization header value per role; the agency is the labour office, which may also reveal identities."""
    return {
        Role.VOLUNTEER_APP: volunteer_app["Authorization"],
        Role.AGENCY: await issue_key(pool, Role.AGENCY, agency=Agency.MOL),
        Role.ADMIN: admin["Authorization"],
    }


@pytest.mark.parametrize("role", list(Role))
def test_every_answer_matches_the_openapi_document(
    intake_url: str, role_keys: dict[str, str], role: Role, tmp_path: Path
) -> None:
    """NUL characters included; deterministic, so a failure can be replayed."""
    schemathesis = Path(sys.executable).parent / "st"
    started = time.monotonic()
    run = subprocess.run(
        [str(schemathesis), "--config-file", str(SETTINGS), "run", f"{intake_url}/openapi.json",
         "--max-examples", "80", "--generation-deterministic", "--generation-allow-x00", "true", "--workers", "2",
         "--header", f"Authorization: {role_keys[role]}",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    summary = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    print(f"{role}: {time.monotonic() - started:.1f} s\n{run.stdout[-1500:]}")
    assert run.returncode == 0, run.stdout[-6000:]
    assert summary is not None, run.stdout[-3000:]
    generated, passed = int(summary.group(1)), int(summary.group(2))
    assert generated >= MINIMUM_REQUESTS
    assert passed == generated
