"""Schemathesis sends generated, mostly malformed requests to intake: none may get a 5xx."""

import re
import subprocess
import sys
from pathlib import Path

MINIMUM_REQUESTS = 1000


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
