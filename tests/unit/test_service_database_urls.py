"""Each service's database URL: DATABASE_URL with its own role, and its own password where one is set."""

from urllib.parse import unquote, urlsplit

import pytest

from shared.settings import InfrastructureSettings

PASSWORD = "p@ss:/w?#rd%41 ไทย"


def test_the_role_replaces_the_owner_and_the_rest_of_the_url_stays() -> None:
    settings = InfrastructureSettings(database_url="postgresql://postgres:@/postgres?host=/tmp/pg")
    assert settings.service_database_url("routing") == "postgresql://needs_routing@/postgres?host=/tmp/pg"
    assert settings.service_role_passwords() == {}


def test_a_service_password_is_escaped_into_its_url_only() -> None:
    settings = InfrastructureSettings(
        database_url="postgresql://needs@db:5432/needs", database_password="owner", intake_database_password=PASSWORD
    )
    intake = urlsplit(settings.service_database_url("intake"))
    assert (intake.username, unquote(intake.password or ""), intake.hostname, intake.path) == (
        "needs_intake", PASSWORD, "db", "/needs"
    )  # fmt: skip
    assert urlsplit(settings.service_database_url("screening")).password == "owner"


def test_without_their_own_passwords_the_roles_take_the_owners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://needs@db/needs")
    monkeypatch.setenv("DATABASE_PASSWORD", "a/b")
    monkeypatch.setenv("ROUTING_DATABASE_PASSWORD", "routing-secret")
    assert InfrastructureSettings().service_role_passwords() == {
        "needs_intake": "a/b",
        "needs_screening": "a/b",
        "needs_routing": "routing-secret",
        "needs_inbox": "a/b",
    }
