"""The operators' alert rules and dashboard: valid, tested on recorded series, on metrics the code exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import services.intake.adapters.backlog_metrics
import services.intake.use_cases.redrive
import shared.observability

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy/prometheus"
DASHBOARD = ROOT / "deploy/grafana/dashboards/needs-router.json"
METRIC = re.compile(r"\b(needs_router_[a-z_]+|up)\b(?![\s]*\()")
# The modules that define the metrics the rules read, imported for their registrations.
METRIC_MODULES = (shared.observability, services.intake.use_cases.redrive, services.intake.adapters.backlog_metrics)


def promtool(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; fail (never skip) when it is missing."""
    found = shutil.which("promtool")
    assert found, "promtool is missing: `make test` installs it (apt-get install prometheus)"
    return subprocess.run([found, *map(str, arguments)], capture_output=True, text=True, timeout=120, check=False)


def alert_rules() -> list[dict[str, Any]]:
    loaded: dict[str, Any] = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def exported_metric_names() -> set[str]:
    """Every sample name the services' registries can produce, plus Prometheus' own ``up``."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {"up"} | {
        family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, ("",))
    }


def test_the_rules_and_the_compose_configuration_load() -> None:
    checked = promtool("check", "config", PROMETHEUS / "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 13 rules found" in checked.stdout


def test_each_rule_fires_on_series_made_to_trip_it_and_stays_silent_on_a_healthy_system() -> None:
    tested = promtool("test", "rules", PROMETHEUS / "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_rule_has_a_tripping_case_and_a_healthy_case() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    checks = [check for test in tests for check in test["alert_rule_test"]]
    for rule in alert_rules():
        name = rule["alert"]
        assert any(check["alertname"] == name and check["exp_alerts"] for check in checks), f"{name} never fires"
        assert any(check["alertname"] == name and not check["exp_alerts"] for check in checks), f"{name} never silent"


def test_the_rules_and_the_dashboard_read_only_metrics_the_services_export() -> None:
    exported = exported_metric_names()
    used = {
        name
        for expression in [rule["expr"] for rule in alert_rules()] + dashboard_expressions()
        for name in METRIC.findall(expression)
    }
    assert used - exported == set(), f"not exported by any service: {used - exported}"
    assert {"needs_router_outbox_records", "needs_router_overdue_cases", "needs_router_dead_letters_total"} <= used


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    as_rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel_{number}", "expr": expression}
        for number, expression in enumerate(dashboard_expressions())
    ]}]}  # fmt: skip
    rules_file = tmp_path / "dashboard.rules.yml"
    rules_file.write_text(yaml.safe_dump(as_rules))
    checked = promtool("check", "rules", rules_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("alert", [rule["alert"] for rule in alert_rules()])
def test_every_alert_has_a_runbook_line_in_the_readme(alert: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"^\| `{alert}` \|.+\|.+\|$", readme, re.MULTILINE), f"no runbook line for {alert}"
