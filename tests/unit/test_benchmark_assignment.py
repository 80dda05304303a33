"""When the benchmark may start its clock: every subscription of every process holds its partitions."""

from benchmark.assignment import Subscription, fully_assigned, parse_holdings

SCREENED = Subscription("bench-routing-1", "needs.screened.v1")
STATUS = Subscription("bench-case-status-1", "cases.status.v1")
PARTITIONS = {"needs.screened.v1": 12, "cases.status.v1": 12}


def test_one_process_holding_every_partition_of_both_subscriptions_is_ready() -> None:
    assert fully_assigned([{SCREENED: 12, STATUS: 12}], [SCREENED, STATUS], partitions=PARTITIONS)


def test_a_process_still_joining_its_second_group_is_not_ready() -> None:
    assert not fully_assigned([{STATUS: 12}], [SCREENED, STATUS], partitions=PARTITIONS)


def test_a_replica_that_joined_late_and_holds_nothing_yet_is_not_ready() -> None:
    # The first replica took every partition; the group has yet to spread over the second.
    assert not fully_assigned([{SCREENED: 12, STATUS: 12}, {}], [SCREENED, STATUS], partitions=PARTITIONS)


def test_two_replicas_sharing_every_partition_are_ready_and_a_rebalance_in_flight_is_not() -> None:
    shared = [{SCREENED: 6, STATUS: 7}, {SCREENED: 6, STATUS: 5}]
    revoked = [{SCREENED: 0, STATUS: 7}, {SCREENED: 6, STATUS: 5}]

    assert fully_assigned(shared, [SCREENED, STATUS], partitions=PARTITIONS)
    assert not fully_assigned(revoked, [SCREENED, STATUS], partitions=PARTITIONS)


def test_with_more_replicas_than_partitions_the_idle_replica_does_not_hold_the_clock_back() -> None:
    one_partition = {"needs.screened.v1": 1}

    assert fully_assigned([{SCREENED: 1}, {SCREENED: 0}], [SCREENED], partitions=one_partition)
    assert not fully_assigned([{SCREENED: 0}, {SCREENED: 0}], [SCREENED], partitions=one_partition)


def test_the_counts_are_read_from_a_metrics_page() -> None:
    page = (
        "# HELP needs_router_assigned_partitions Partitions of the topic this process's group gave it\n"
        "# TYPE needs_router_assigned_partitions gauge\n"
        'needs_router_assigned_partitions{group="bench-routing-1",topic="needs.screened.v1"} 12.0\n'
        'needs_router_assigned_partitions{group="bench-case-status-1",topic="cases.status.v1"} 0.0\n'
        'needs_router_consumer_lag{consumer="routing",topic="needs.screened.v1",partition="0"} 3.0\n'
    )

    assert parse_holdings(page) == {SCREENED: 12.0, STATUS: 0.0}
