"""DATABASE_PASSWORD: any password reaches the database URL escaped, and never shows in an error."""

from urllib.parse import unquote, urlsplit

import pytest
from pydantic import ValidationError

from shared.settings import InfrastructureSettings

PASSWORD = "p@ss:/w?#rd%41 ไทย"


def test_the_password_is_put_into_the_url_escaped() -> None:
    settings = InfrastructureSettings(database_url="postgresql://needs@db:5432/needs", database_password=PASSWORD)
    url = settings.database_url
    assert url == "postgresql://needs:p%40ss%3A%2Fw%3F%23rd%2541%20%E0%B9%84%E0%B8%97%E0%B8%A2@db:5432/needs"
    parts = urlsplit(url)
    assert (unquote(parts.password or ""), parts.hostname, parts.port, parts.path) == (PASSWORD, "db", 5432, "/needs")


def test_without_a_password_the_url_is_left_as_it_is() -> None:
    url = "postgresql://needs:secret@db/needs?sslmode=require"
    assert InfrastructureSettings(database_url=url).database_url == url


def test_the_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://needs@db/needs")
    monkeypatch.setenv("DATABASE_PASSWORD", "a/b")
    assert InfrastructureSettings().database_url == "postgresql://needs:a%2Fb@db/needs"


@pytest.mark.parametrize(
    ("database_url", "problem"),
    [
        ("postgresql://needs:other@db/needs", "DATABASE_URL has a password too"),
        ("postgresql://db/needs", "needs a DATABASE_URL with a user"),
    ],
)
def test_a_url_the_password_cannot_go_into_is_refused_without_showing_it(database_url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as refused:
        InfrastructureSettings(database_url=database_url, database_password=PASSWORD)
    assert PASSWORD not in str(refused.value)
    assert "other" not in str(refused.value)


def test_settings_copied_from_settings_keep_the_password_once() -> None:
    settings = InfrastructureSettings(database_url="postgresql://needs@db/needs", database_password="a/b")
    assert InfrastructureSettings(**settings.model_dump()).database_url == "postgresql://needs:a%2Fb@db/needs"
