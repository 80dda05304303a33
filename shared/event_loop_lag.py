"""How late a service's event loop wakes what waits on it: a delay every need in that process waits too.

A process runs its consumers, HTTP handlers and timers on one asyncio loop. Work that holds the
loop (a long synchronous step, a full garbage collection, a machine with no idle core) delays
everything else, and no batch time shows it: the need waited before its batch began. A sleeper
asks to be woken every ``WATCH_EVERY_S`` and records how late it was woken
(``needs_router_event_loop_lag_seconds``).
"""

import asyncio
import logging

from shared.observability import EVENT_LOOP_LAG

log = logging.getLogger(__name__)

WATCH_EVERY_S = 0.02
# A stall this long delays every need in the process by as much: worth a line in the log.
LOGGED_STALL_S = 0.1


async def watch_event_loop(every_s: float = WATCH_EVERY_S) -> None:
    """Record the loop's lateness until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(every_s)
        late = max(loop.time() - asked - every_s, 0.0)
        EVENT_LOOP_LAG.observe(late)
        if late >= LOGGED_STALL_S:
            log.warning("the event loop stalled for %.0f ms", late * 1000)
