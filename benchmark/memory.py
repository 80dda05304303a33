"""Peak resident memory of a process, from Linux's own accounting (no psutil)."""

from pathlib import Path

from benchmark.errors import BenchmarkFailed


class PeakMemoryUnknown(BenchmarkFailed):
    """/proc/<pid>/status could not be read or has no VmHWM line (not Linux, or the process is gone)."""


def peak_rss_mb(pid: int) -> float:
    """VmHWM, the high-water mark of the process's resident set, in MiB."""
    status = Path(f"/proc/{pid}/status")
    try:
        lines = status.read_text().splitlines()
    except OSError as error:
        raise PeakMemoryUnknown(f"cannot read {status}: {error}") from error
    for line in lines:
        if line.startswith("VmHWM:"):
            kib = int(line.split()[1])  # "VmHWM:   123456 kB"
            return kib / 1024
    raise PeakMemoryUnknown(f"{status} has no VmHWM line")
