"""One ``needs-router up`` shared by the e2e modules that only submit needs and read topics.

Starting a pipeline (broker, database, four service processes, their groups joined) is most of
what such a module costs, so those modules take ``shared_pipeline`` instead of starting their
own. Each test keeps to its own ids, keys and consumer groups, so they do not see each other.
A module whose needs must meet no earlier ones (related needs cluster with any similar need)
takes ``fresh_shared_pipeline``: a pipeline no other module has used yet, so it runs first.
Modules that stop, kill or reconfigure parts (the fault tests, the learning loop, backup and
restore) or that escalate every case (event contracts) keep a pipeline of their own.

The modules that share it run one after the other, and the pipeline stops as soon as the next
test needs it no more: it never idles on the two cores beside other tests.
"""

from collections.abc import Iterator

import pytest

from tests.e2e.shared_pipeline import SharedPipeline
from tests.e2e.test_pipeline import RunningPipeline
from tests.line_stand_in import LineStandIn

SHARED, FRESH = "shared_pipeline", "fresh_shared_pipeline"
# Its tests change the routing table for good and its last test stops the pipeline with SIGTERM.
RUNS_LAST = "test_pipeline.py"


_shared = SharedPipeline()


@pytest.fixture(scope="module")
def shared_pipeline() -> RunningPipeline:
    """The shared ``needs-router up``, started when the first module that takes it runs."""
    return _shared.get()[0]


@pytest.fixture(scope="module")
def fresh_shared_pipeline() -> RunningPipeline:
    """The shared ``needs-router up``, new unless no other module has used it yet."""
    return _shared.get(fresh=True)[0]


@pytest.fixture(scope="module")
def shared_line(shared_pipeline: RunningPipeline) -> LineStandIn:
    """The stand-in for LINE's Messaging API that the shared pipeline's intake talks to."""
    return _shared.get()[1]


def _takes_shared(item: pytest.Item | None) -> bool:
    names = getattr(item, "fixturenames", ())
    return SHARED in names or FRESH in names


def _turn(item: pytest.Item) -> int:
    if FRESH in getattr(item, "fixturenames", ()):
        return 0
    return 2 if item.path.name == RUNS_LAST else 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that take the shared pipeline one after the other, at the first one's place."""
    sharing = [item for item in items if _takes_shared(item)]
    if not sharing:
        return
    first = items.index(sharing[0])
    others = [item for item in items if not _takes_shared(item)]
    items[:] = others[:first] + sorted(sharing, key=_turn) + others[first:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Stop the shared pipeline once the next test does not take it."""
    yield
    if not _takes_shared(nextitem):
        _shared.stop()


def pytest_sessionfinish() -> None:
    """Stop the shared pipeline if an interrupted run left it running."""
    _shared.stop()
