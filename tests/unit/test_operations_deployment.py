"""The optional compose services for operators: monitoring and backups, against the files they use."""

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded["services"]


def test_monitoring_and_backup_run_only_when_their_profile_is_asked_for(services: dict[str, Any]) -> None:
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    assert services["backup"]["profiles"] == ["backup"]
    for always in ("kafka", "postgres", "intake", "screening", "routing"):
        assert "profiles" not in services[always]


def test_prometheus_reads_the_rules_file_the_tests_check(services: dict[str, Any]) -> None:
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    scraped = {job["job_name"]: job["dns_sd_configs"][0] for job in config["scrape_configs"]}
    assert scraped["needs-router-intake"] == {"names": ["intake"], "type": "A", "port": 8080}
    for name in ("screening", "routing"):
        assert scraped[f"needs-router-{name}"] == {"names": [name], "type": "A", "port": 9100}
    assert scraped["needs-router-inbox"] == {"names": ["inbox"], "type": "A", "port": 8090}


def test_grafana_is_provisioned_with_the_dashboard_and_the_prometheus_it_queries(services: dict[str, Any]) -> None:
    volumes = services["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in volumes
    source = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["uid"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/needs-router.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_the_backup_uses_the_pg_dump_of_the_servers_major_version(services: dict[str, Any]) -> None:
    def major(image: str) -> str:
        return image.split(":")[1].split("-")[0].split(".")[0]

    assert major(services["backup"]["image"]) == major(services["postgres"]["image"])
    assert services["backup"]["environment"]["PGHOST"] == "postgres"
    assert "pg_dump --format=custom" in services["backup"]["command"][0]
    assert services["backup"]["depends_on"]["postgres"]["condition"] == "service_healthy"
