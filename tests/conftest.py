"""Fixtures shared by every test folder; tests/unit needs none of the infrastructure ones."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from services.supervisor import prepare_infrastructure
from shared.settings import InfrastructureSettings
from tests.infrastructure import Infrastructure, provide


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
