"""Garbage collection for long-running services: what start-up built is never collected again.

Measured on intake under a concurrent HTTP client (2-core development machine): with CPython's
defaults the collector took 11-13% of the process's time, and each full collection walked the
~100,000 objects of FastAPI, pydantic and aiokafka for 85-90 ms, a pause every few seconds that
every request in flight waited through. Freezing them and collecting the youngest generation
every 7,000 allocations instead of every 700 brought that to about 2%, with no pause over 50 ms.
"""

import gc

# A request to intake allocates hundreds of containers, nearly all freed when it ends: at
# CPython's 700, the youngest generation was collected after almost every request.
YOUNGEST_GENERATION_THRESHOLD = 7_000


def freeze_startup_objects() -> None:
    """Call once start-up is done: collect its garbage, then keep the rest out of every later collection."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_GENERATION_THRESHOLD, middle, oldest)
