"""Batch handlers' parameters are resolved on the event loop, never in a worker thread."""

from typing import Annotated, NoReturn

import anyio.to_thread
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from shared.batch_subscribers import BatchMessage, LoopContext


async def test_message_and_use_case_reach_the_handler_without_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_thread(*_: object, **__: object) -> NoReturn:
        raise AssertionError("a handler parameter was resolved in a worker thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
    broker = KafkaBroker()
    broker.context.set_global("use-case", "the screener")
    received: list[tuple[bytes, str]] = []

    @broker.subscriber("needs.test", batch=True)
    async def handle(message: BatchMessage, use_case: Annotated[str, LoopContext("use-case")]) -> None:
        received.append((message.raw_message[0].value, use_case))

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"first", topic="needs.test")

    assert received == [(b"first", "the screener")]
