"""The ``needs-router up`` that e2e modules share (see tests/e2e/conftest.py), and the LINE stand-in beside it."""

import secrets
from contextlib import ExitStack

from tests.e2e.test_pipeline import RunningPipeline, started_pipeline
from tests.line_stand_in import LineStandIn, line_stand_in

LINE_CHANNEL_SECRET = secrets.token_hex(16)
LINE_ACCESS_TOKEN = secrets.token_urlsafe(32)


class SharedPipeline:
    """The shared pipeline and the LINE stand-in it talks to, started on first use."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self._running: tuple[RunningPipeline, LineStandIn] | None = None
        self._handed_out = 0

    def get(self, *, fresh: bool = False) -> tuple[RunningPipeline, LineStandIn]:
        """The running pipeline; a new one if none runs (or a test stopped it), or if ``fresh`` and it was used."""
        alive = self._running is not None and self._running[0].process.poll() is None
        if alive and not (fresh and self._handed_out):
            assert self._running is not None
            self._handed_out += 1
            return self._running
        self.stop()
        with ExitStack() as stack:
            line = stack.enter_context(line_stand_in(LINE_ACCESS_TOKEN))
            # The union of what the sharing modules need: a quick routing-table refresh, quick
            # discovery of new source topics, LINE's Messaging API at the stand-in, and an
            # escalation check every second (not every minute) for cases a test made overdue.
            pipeline = stack.enter_context(
                started_pipeline(
                    ROUTING_TABLE_REFRESH_S="0.5",
                    ESCALATION_INTERVAL_S="1",
                    SOURCE_DISCOVERY_S="1",
                    LINE_CHANNEL_SECRET=LINE_CHANNEL_SECRET,
                    LINE_CHANNEL_ACCESS_TOKEN=LINE_ACCESS_TOKEN,
                    LINE_API_BASE_URL=line.url,
                    LINE_PUSH_INTERVAL_S="0.3",
                )
            )
            self._stack = stack.pop_all()
        self._running, self._handed_out = (pipeline, line), 1
        return self._running

    def stop(self) -> None:
        """Stop the pipeline and the stand-in, if they run."""
        stack, self._stack, self._running, self._handed_out = self._stack, None, None, 0
        if stack is not None:
            stack.close()
