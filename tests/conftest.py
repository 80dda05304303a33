"""Fixtures shared by every test folder; tests/unit needs none of the infrastructure ones."""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from services.intake.adapters.access_store import create_key
from services.intake.adapters.personal_data import generate_key
from services.intake.domain.api_keys import Role
from services.intake.settings import IntakeSettings
from services.supervisor import prepare_infrastructure
from shared.contracts.need_types import Agency
from shared.embedded import free_port, wait_for_port
from shared.kafka import create_broker
from shared.settings import InfrastructureSettings
from tests.infrastructure import Infrastructure, provide
from tests.polling import wait_until_ready


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder under tests/: unit, integration or e2e."""
    tests_folder = Path(__file__).parent
    for item in items:
        kind = Path(str(item.fspath)).relative_to(tests_folder).parts[0]
        if kind in {"unit", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """A real broker and PostgreSQL for the whole session."""
    with provide() as provided:
        print(f"\ninfrastructure: {provided.kind} kafka={provided.kafka_bootstrap_servers}")
        yield provided


@pytest.fixture(scope="session")
async def settings(infrastructure: Infrastructure) -> InfrastructureSettings:
    """Settings pointing at the session's infrastructure, with migrations and topics in place."""
    settings = InfrastructureSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        database_url=infrastructure.database_url,
    )
    await prepare_infrastructure(settings)
    return settings


@pytest.fixture(scope="session")
async def pool(settings: InfrastructureSettings) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool to the session's database."""
    created = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert created is not None
    yield created
    await created.close()


@pytest.fixture
def unique() -> str:
    """A suffix no other test uses, for consumer groups and ids."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def intake_settings(settings: InfrastructureSettings) -> IntakeSettings:
    """Intake's settings on the session's infrastructure, with a personal-data key of its own."""
    return IntakeSettings(**settings.model_dump(), personal_data_key=SecretStr(generate_key()))


async def issue_key(
    pool: asyncpg.Pool,
    role: Role,
    *,
    agency: Agency | None = None,
    provinces: tuple[str, ...] = (),
    owner: str | None = None,
    valid_for: timedelta | None = None,
) -> str:
    """A bearer header value for a new key of this role and scope."""
    async with pool.acquire() as connection:
        key = await create_key(
            connection, role=role, owner=owner, agency=agency, provinces=provinces, valid_for=valid_for
        )
    return f"Bearer {key.token}"


@pytest.fixture(scope="session")
async def volunteer_app(pool: asyncpg.Pool) -> dict[str, str]:
    """Headers of the volunteer app the tests submit needs as."""
    return {"Authorization": await issue_key(pool, Role.VOLUNTEER_APP, owner="volunteer-app-tests")}


@pytest.fixture(scope="session")
async def admin(pool: asyncpg.Pool) -> dict[str, str]:
    """Headers of an administrator."""
    return {"Authorization": await issue_key(pool, Role.ADMIN, owner="ministry-admin")}


@contextmanager
def intake_process(intake_settings: IntakeSettings, **extra_env: str) -> Iterator[str]:
    """Intake as its own process (`needs-router serve intake`) on the session's infrastructure, ready: its URL."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": intake_settings.kafka_bootstrap_servers,
        "DATABASE_URL": intake_settings.database_url,
        "PERSONAL_DATA_KEY": intake_settings.personal_data_key.get_secret_value(),
        "INTAKE_PORT": str(port),
        **extra_env,
    }
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "intake"], env=env)
    try:
        wait_for_port(port, timeout_s=60)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def intake_url(intake_settings: IntakeSettings) -> Iterator[str]:
    """Intake as its own process on the session's infrastructure, ready."""
    with intake_process(intake_settings) as url:
        yield url


@pytest.fixture(scope="session")
async def broker(settings: InfrastructureSettings) -> AsyncIterator[KafkaBroker]:
    """A connected broker of the project's own kind, for tests that drive use cases directly."""
    connected = create_broker(settings, client_id="tests")
    await connected.connect()
    yield connected
    await connected.stop()
