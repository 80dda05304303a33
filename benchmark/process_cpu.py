"""Where a phase's CPU went: the CPU time of each process taking part, from Linux's /proc.

A rate alone does not say what bounds it. On two cores shared by the services, the broker,
PostgreSQL and the benchmark's own producer and readers, CPU per need, process by process,
says how far any one of them could move the pipeline's rate (docs/performance-notes.md).
"""

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Fields of /proc/<pid>/stat after the command's closing parenthesis: state is 0, ppid 1, utime 11, stime 12.
_PPID, _UTIME, _STIME = 1, 11, 12


@dataclass(frozen=True, slots=True)
class Participant:
    """Processes whose CPU counts under one name; ``with_children`` adds every process they started.

    PostgreSQL works in the backends its postmaster starts; the benchmark's own process is
    counted without its children, which are the services, the broker and the database.
    """

    name: str
    pids: tuple[int, ...]
    with_children: bool = False


@dataclass(frozen=True, slots=True)
class ProcessTable:
    """Every process's parent and CPU ticks (user + system) at one moment."""

    parents: Mapping[int, int]
    ticks: Mapping[int, int]

    @classmethod
    def now(cls, proc: Path = PROC) -> "ProcessTable | None":
        """The table as /proc shows it now; None where there is no /proc (not Linux)."""
        if not proc.is_dir():
            return None
        parents, ticks = {}, {}
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):  # it exited while the table was read
                continue
            pid = int(entry.name)
            parents[pid] = int(fields[_PPID])
            ticks[pid] = int(fields[_UTIME]) + int(fields[_STIME])
        return cls(parents, ticks)

    def members(self, participant: Participant) -> set[int]:
        """The participant's processes in this table, with their children (and theirs) if it says so."""
        members = {pid for pid in participant.pids if pid in self.ticks}
        if participant.with_children:
            children: dict[int, list[int]] = defaultdict(list)
            for pid, parent in self.parents.items():
                children[parent].append(pid)
            waiting = list(members)
            while waiting:
                for child in children[waiting.pop()]:
                    if child not in members:
                        members.add(child)
                        waiting.append(child)
        return members


def cpu_ms_per_need(
    participants: Sequence[Participant], before: ProcessTable | None, after: ProcessTable | None, *, needs: int
) -> dict[str, float] | None:
    """Milliseconds of CPU each participant spent per need between two tables; None when either is unknown.

    Counted over the processes of the second table: one started in between counts whole, and
    one that exited in between (a PostgreSQL backend whose connection closed) is not counted.
    """
    if before is None or after is None or needs <= 0:
        return None
    spent = {}
    for participant in participants:
        ticks = sum(after.ticks[pid] - before.ticks.get(pid, 0) for pid in after.members(participant))
        spent[participant.name] = ticks / _TICKS_PER_S * 1000 / needs
    return spent
