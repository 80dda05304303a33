"""A service's start-up objects leave the collector's work; young objects are collected less often."""

import json
import subprocess
import sys

from shared.garbage_collection import YOUNGEST_GENERATION_THRESHOLD

# In a process of its own: freezing the test process's objects would outlive this test.
_SETTLE = """
import gc, json
from shared.garbage_collection import freeze_startup_objects
started = [[] for _ in range(1_000)]  # containers the collector tracks, as start-up makes
before = gc.get_threshold()
freeze_startup_objects()
print(json.dumps({"frozen": gc.get_freeze_count(), "before": before, "after": gc.get_threshold()}))
"""


def test_start_up_objects_are_frozen_and_only_the_youngest_threshold_changes() -> None:
    settled = subprocess.run([sys.executable, "-c", _SETTLE], capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(settled.stdout)

    assert report["frozen"] > 1_000
    assert report["after"] == [YOUNGEST_GENERATION_THRESHOLD, *report["before"][1:]]
