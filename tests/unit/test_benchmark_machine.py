"""The benchmark's reading of how contended the machine was."""

from benchmark.machine import CpuTimes, contention_between


def test_shares_are_of_all_cpu_time_between_the_readings() -> None:
    before = CpuTimes(total=1_000, idle=300, steal=100)
    after = CpuTimes(total=2_000, idle=550, steal=420)

    contention = contention_between(before, after)

    assert contention is not None
    assert contention.steal_share == 0.32
    assert contention.idle_share == 0.25


def test_no_reading_or_no_time_passed_means_unknown() -> None:
    reading = CpuTimes(total=1_000, idle=300, steal=100)

    assert contention_between(None, reading) is None
    assert contention_between(reading, None) is None
    assert contention_between(reading, reading) is None


def test_this_linux_machine_reports_its_counters() -> None:
    reading = CpuTimes.now()

    assert reading is not None
    assert reading.total > reading.idle >= 0
    assert reading.steal >= 0
