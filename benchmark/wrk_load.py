"""Intake's accept rate measured with wrk, a C load generator, when the machine has it.

The load generator shares the two cores with intake. httpx spent more CPU per request than
intake does (1.1-1.4 ms against 0.9 ms here) and set the rate itself; the h11 client in
http_load, the fallback, spends about 0.5 ms, still half a core at 1,000 needs/s. wrk
(Debian's package) costs a fraction of that; it posts bodies from the benchmark's workload in turn.
"""

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkFailed
from benchmark.http_load import NEEDS_PATH, AcceptRun

CONNECTIONS = 32


def wrk_available() -> bool:
    """True when Debian's wrk is on the PATH."""
    return shutil.which("wrk") is not None


def _script(token: str, bodies: Sequence[dict[str, object]]) -> str:
    # Lua long strings hold the JSON bodies as they are; each request takes the next body in turn.
    entries = ",\n".join(f"[==[{json.dumps(body, ensure_ascii=False)}]==]" for body in bodies)
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local bodies = {{
{entries}
}}
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format(nil, "{NEEDS_PATH}", nil, bodies[n])
end
"""


def measure_accept_rate_with_wrk(
    intake_url: str, *, token: str, bodies: Sequence[dict[str, object]], duration_s: float
) -> AcceptRun:
    """Accepted needs per second with ``CONNECTIONS`` connections busy for ``duration_s``."""
    with tempfile.TemporaryDirectory(prefix="needs-router-wrk-") as folder:
        script = Path(folder) / "post.lua"
        script.write_text(_script(token, bodies), encoding="utf-8")
        run = subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration_s:.0f}s", "-s", str(script), intake_url],
            capture_output=True, text=True, timeout=duration_s + 60, check=False,
        )  # fmt: skip
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", run.stdout)
    if run.returncode != 0 or total is None:
        raise BenchmarkFailed(f"wrk failed: {run.stderr.strip() or run.stdout.strip()}")
    elapsed = float(total.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total.group(3)]
    refused_match = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
    refused = int(refused_match.group(1)) if refused_match else 0
    accepted = int(total.group(1)) - refused
    if not accepted:
        raise BenchmarkFailed("intake accepted none of the needs wrk posted")
    return AcceptRun(accepted_per_s=accepted / elapsed, refused=refused, client="wrk")
