"""What the AsyncAPI document promises agencies, beyond being valid (the parser checks that)."""

import json
import re

from shared.asyncapi import asyncapi_json
from shared.contracts.need_types import Agency

DOCUMENT = json.loads(asyncapi_json())


def test_every_channel_address_is_a_real_topic_and_every_parameter_is_declared() -> None:
    for name, channel in DOCUMENT["channels"].items():
        assert re.fullmatch(r"[a-z0-9_.{}]+", channel["address"]), f"{name}: {channel['address']}"
        assert set(re.findall(r"{(\w+)}", channel["address"])) == set(channel.get("parameters", {})), name
    agency = DOCUMENT["channels"]["agencyQueue"]
    assert agency["address"] == "agency.{agency}.{province_code}"
    assert agency["parameters"]["agency"]["enum"] == [code.value for code in Agency]
    assert set(agency["messages"]) == {"caseRouted", "personalDataErased", "caseEscalated", "caseLinked"}


def test_every_message_is_keyed_and_carries_cloudevents_headers() -> None:
    for name, message in DOCUMENT["components"]["messages"].items():
        assert message["bindings"]["kafka"]["key"]["type"] == "string", name
        assert message["correlationId"]["location"] == "$message.header#/ce_id", name
        assert message["headers"]["properties"]["ce_type"]["const"] == message["name"], name
    assert "required" not in DOCUMENT["components"]["messages"]["caseStatusReport"]["headers"], "optional for agencies"
    assert "ce_id" in DOCUMENT["components"]["messages"]["caseRouted"]["headers"]["required"]


def test_agencies_receive_their_queue_and_send_reports_over_scram() -> None:
    operations = DOCUMENT["operations"]
    assert operations["agencyReceivesCases"]["action"] == "receive"
    assert operations["agencyReceivesCases"]["channel"] == {"$ref": "#/channels/agencyQueue"}
    assert operations["agencySendsStatusReports"]["action"] == "send"
    assert {operation["action"] for operation in operations.values()} == {"send", "receive"}
    assert DOCUMENT["components"]["securitySchemes"]["scram"]["type"] == "scramSha512"
    assert DOCUMENT["servers"]["compose"]["security"] == [{"$ref": "#/components/securitySchemes/scram"}]


def test_the_status_report_schema_does_not_require_an_event_id() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "event_id" not in schemas["CaseStatusReport"]["required"]
    assert "event_id" in schemas["RoutedCase"]["required"]
