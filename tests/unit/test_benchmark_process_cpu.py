"""The benchmark's count of the CPU each process spent in the pipeline's drain."""

import os
import subprocess
import sys
from pathlib import Path

from benchmark.process_cpu import Participant, ProcessTable, cpu_ms_per_need

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _table(ticks: dict[int, float], parents: dict[int, int]) -> ProcessTable:
    """A table whose processes have used ``ticks`` seconds of CPU each."""
    return ProcessTable(parents=parents, ticks={pid: round(seconds * TICKS_PER_S) for pid, seconds in ticks.items()})


def test_a_database_counts_its_backends_and_theirs_and_a_service_only_itself() -> None:
    # 10 is the postmaster, 11 and 12 its backends, 13 a child of 12; 20 a service whose child 21 is not its work.
    parents = {10: 1, 11: 10, 12: 10, 13: 12, 20: 1, 21: 20}
    before = _table({10: 1.0, 11: 1.0, 12: 1.0, 13: 0.0, 20: 5.0, 21: 0.0}, parents)
    after = _table({10: 1.5, 11: 2.0, 12: 3.0, 13: 0.5, 20: 7.0, 21: 9.0}, parents)
    participants = [Participant("postgres", (10,), with_children=True), Participant("routing", (20,))]

    spent = cpu_ms_per_need(participants, before, after, needs=1_000)

    assert spent == {"postgres": 4.0, "routing": 2.0}


def test_a_process_started_in_between_counts_whole_and_one_that_exited_not_at_all() -> None:
    before = _table({10: 1.0, 11: 30.0}, {10: 1, 11: 10})
    after = _table({10: 2.0, 12: 0.5}, {10: 1, 12: 10})

    spent = cpu_ms_per_need([Participant("postgres", (10,), with_children=True)], before, after, needs=100)

    assert spent == {"postgres": 15.0}


def test_without_proc_or_needs_nothing_is_reported(tmp_path: Path) -> None:
    table = _table({10: 1.0}, {10: 1})

    assert ProcessTable.now(tmp_path / "no-proc") is None
    assert cpu_ms_per_need([Participant("broker", (10,))], None, table, needs=10) is None
    assert cpu_ms_per_need([Participant("broker", (10,))], table, table, needs=0) is None


def test_a_busy_child_of_this_process_is_counted_with_its_parent_only_when_children_count() -> None:
    busy = "import sys, time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\nsys.stdin.read()"
    before = ProcessTable.now()
    child = subprocess.Popen([sys.executable, "-c", busy], stdin=subprocess.PIPE)
    try:
        while True:  # until the child has burnt its CPU (it then waits, alive, for its input to close)
            after = ProcessTable.now()
            assert after is not None
            if after.ticks.get(child.pid, 0) >= 0.3 * TICKS_PER_S:
                break
        spent = cpu_ms_per_need(
            [Participant("tree", (os.getpid(),), with_children=True), Participant("alone", (os.getpid(),))],
            before, after, needs=1,
        )  # fmt: skip
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()

    assert spent is not None
    assert spent["tree"] - spent["alone"] >= 300
