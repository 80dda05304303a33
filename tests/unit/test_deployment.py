"""docker-compose.yml cannot run here (no Docker engine): keep it honest against the code."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import build_parser
from services.intake.settings import IntakeSettings
from services.routing.settings import RoutingSettings
from services.screening.settings import ScreeningSettings
from shared.contracts.export import export_schemas

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ENV = {
    name.upper() for settings in (IntakeSettings, ScreeningSettings, RoutingSettings) for name in settings.model_fields
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_kafka_is_apache_kafka_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = dict(line.split("=", 1) for line in (ROOT / kafka["env_file"]).read_text().splitlines()
               if line and not line.startswith("#"))  # fmt: skip
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka


def test_each_service_runs_a_command_the_cli_has(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name in ("intake", "screening", "routing"):
        command = compose["services"][name]["command"]
        assert command == ["serve", name]
        parser.parse_args(command)
    parser.parse_args(compose["services"]["topics"]["command"])


def test_services_are_built_from_the_one_dockerfile_with_the_cli_as_entrypoint(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert 'ENTRYPOINT ["needs-router"]' in dockerfile
    for name in ("topics", "intake", "screening", "routing"):
        assert compose["services"][name]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_every_environment_variable_is_one_the_settings_read(compose: dict[str, Any]) -> None:
    for name in ("intake", "screening", "routing", "topics"):
        env = compose["services"][name]["environment"]
        assert set(env) <= SETTINGS_ENV, set(env) - SETTINGS_ENV
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["DATABASE_URL"].startswith("postgresql://")


def test_services_wait_for_healthy_infrastructure_and_the_topics(compose: dict[str, Any]) -> None:
    for name in ("intake", "screening", "routing"):
        depends = compose["services"][name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["topics"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in compose["services"]["postgres"]
    assert "healthcheck" in compose["services"]["intake"]


def test_the_intake_port_is_published_where_intake_listens(compose: dict[str, Any]) -> None:
    intake = compose["services"]["intake"]
    assert intake["environment"]["INTAKE_HOST"] == "0.0.0.0"
    assert intake["ports"] == [f"{intake['environment']['INTAKE_PORT']}:8080"]


def test_exported_schemas_match_the_contracts() -> None:
    assert export_schemas(ROOT / "shared/contracts/schemas", check=True) == []
