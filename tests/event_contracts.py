"""Checking a record as an agency's developer would: its body against the exported JSON Schema,
its headers with the CloudEvents SDK. Neither check uses the project's own parsing."""

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator

from shared.contracts.cloud_events import event_model
from shared.contracts.export import CONTRACTS

SCHEMAS = Path(__file__).resolve().parents[1] / "shared" / "contracts" / "schemas"
_SCHEMA_NAMES = {model: name for name, model in CONTRACTS.items()}


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(schema_name: str, payload: Any) -> list[str]:
    """Every way ``payload`` breaks the exported schema ``schema_name`` (empty if it conforms)."""
    return [
        f"{'/'.join(map(str, error.path))}: {error.message}" for error in _validator(schema_name).iter_errors(payload)
    ]


def schema_name_of(topic: str, payload: dict[str, Any]) -> str:
    """The exported schema a record on ``topic`` must follow."""
    return _SCHEMA_NAMES[event_model(topic, payload)]


def cloud_event(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes) -> BaseCloudEvent:
    """The record read in Kafka binary content mode by the CloudEvents SDK."""
    return from_binary(KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())


@cache
def _asyncapi_headers() -> dict[str, Draft202012Validator]:
    document = json.loads((SCHEMAS / "asyncapi.json").read_text(encoding="utf-8"))
    return {
        message["name"]: Draft202012Validator(message["headers"], format_checker=Draft202012Validator.FORMAT_CHECKER)
        for message in document["components"]["messages"].values()
    }


def header_errors(ce_type: str, headers: Iterable[tuple[str, bytes]]) -> list[str]:
    """Every way the headers break what the AsyncAPI document declares for messages of ``ce_type``."""
    as_text = {name: value.decode() for name, value in headers}
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in _asyncapi_headers()[ce_type].iter_errors(as_text)]
