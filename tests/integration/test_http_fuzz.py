"""Schemathesis sends generated, mostly malformed requests to intake: none may get a 5xx."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.intake.settings import IntakeSettings
from shared.embedded import free_port, wait_for_port

MINIMUM_REQUESTS = 1000


@pytest.fixture(scope="module")
def intake_url(intake_settings: IntakeSettings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": intake_settings.kafka_bootstrap_servers,
        "DATABASE_URL": intake_settings.database_url,
        "PERSONAL_DATA_KEY": intake_settings.personal_data_key.get_secret_value(),
        "INTAKE_PORT": str(port),
    }
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "intake"], env=env)
    try:
        wait_for_port(port, timeout_s=60)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_no_generated_request_gets_a_server_error(intake_url: str, admin: dict[str, str], tmp_path: Path) -> None:
    """As an admin, so that every operation is reached; NUL characters included."""
    schemathesis = Path(sys.executable).parent / "st"
    run = subprocess.run(
        [str(schemathesis), "run", f"{intake_url}/openapi.json", "--max-examples", "150",
         "--checks", "not_a_server_error", "--generation-deterministic", "--generation-allow-x00", "true",
         "--header", f"Authorization: {admin['Authorization']}",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    summary = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    print(run.stdout[-1500:])
    assert run.returncode == 0, run.stdout[-3000:]
    assert summary is not None, run.stdout[-3000:]
    generated, passed = int(summary.group(1)), int(summary.group(2))
    assert generated >= MINIMUM_REQUESTS
    assert passed == generated
