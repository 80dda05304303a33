"""How contended the machine was while the benchmark ran, from Linux's /proc/stat.

On a shared virtual machine the hypervisor can take a large share of the CPU ("steal"): on
the development machine it was 0-30% at different hours, and every rate measured moved with
it. The report gives the share so that a run can be read, and two runs compared, knowingly.
"""

from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
# Columns of the "cpu" line: user nice system idle iowait irq softirq steal ...
_IDLE_COLUMNS = (3, 4)
_STEAL_COLUMN = 7


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """The machine's cumulative CPU time, in clock ticks summed over every core."""

    total: int
    idle: int
    steal: int

    @classmethod
    def now(cls) -> "CpuTimes | None":
        """The current counters, or None where there is no /proc/stat (not Linux)."""
        try:
            first_line = PROC_STAT.read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        ticks = [int(field) for field in first_line.split()[1:9]]
        return cls(total=sum(ticks), idle=sum(ticks[i] for i in _IDLE_COLUMNS), steal=ticks[_STEAL_COLUMN])


@dataclass(frozen=True, slots=True)
class Contention:
    """Shares of all CPU time between two readings: stolen by the hypervisor, and left idle."""

    steal_share: float
    idle_share: float


def contention_between(before: CpuTimes | None, after: CpuTimes | None) -> Contention | None:
    """What happened between ``before`` and ``after``; None when either is unknown or no time passed."""
    if before is None or after is None or after.total <= before.total:
        return None
    elapsed = after.total - before.total
    return Contention(
        steal_share=(after.steal - before.steal) / elapsed, idle_share=(after.idle - before.idle) / elapsed
    )
