"""A source's grants as librdkafka's ACL bindings, and what is refused before any broker is asked."""

import pytest
from confluent_kafka.admin import AclOperation, AclPermissionType, ResourcePatternType, ResourceType
from pydantic import SecretStr

from services.intake.adapters.kafka_acls import WeakSourcePassword, admin_config, binding, grant_source_access
from services.intake.domain.source_access import source_grants
from shared.settings import InfrastructureSettings
from shared.topics import incoming_topic, receipts_topic


def test_each_grant_becomes_an_allow_binding_for_the_source_user_from_any_host() -> None:
    bindings = {binding(grant) for grant in source_grants("hr-system")}
    assert {(b.restype, b.name, b.resource_pattern_type, b.operation) for b in bindings} == {
        (ResourceType.TOPIC, incoming_topic("hr-system"), ResourcePatternType.LITERAL, AclOperation.WRITE),
        (ResourceType.TOPIC, receipts_topic("hr-system"), ResourcePatternType.LITERAL, AclOperation.READ),
        (ResourceType.GROUP, "source-hr-system", ResourcePatternType.PREFIXED, AclOperation.READ),
    }
    assert {(b.principal, b.host, b.permission_type) for b in bindings} == {
        ("User:source-hr-system", "*", AclPermissionType.ALLOW)
    }


@pytest.mark.parametrize(("tls", "protocol"), [(False, "SASL_PLAINTEXT"), (True, "SASL_SSL")])
def test_the_admin_logs_in_with_the_configured_sasl_settings(tls: bool, protocol: str) -> None:
    settings = InfrastructureSettings(
        kafka_bootstrap_servers="kafka:9092", kafka_sasl_username="admin",
        kafka_sasl_password=SecretStr("admin-password-0123"), kafka_sasl_mechanism="SCRAM-SHA-256", kafka_use_tls=tls,
    )  # fmt: skip
    config = admin_config(settings)
    assert (config["bootstrap.servers"], config["security.protocol"]) == ("kafka:9092", protocol)
    assert (config["sasl.mechanisms"], config["sasl.username"]) == ("SCRAM-SHA-256", "admin")
    assert config["sasl.password"] == "admin-password-0123"


@pytest.mark.parametrize("password", ["short-0123", "sixteen chars+=!", ""])
def test_a_weak_source_password_is_refused_before_the_broker_is_asked(password: str) -> None:
    # Port 9 (discard) is never a broker: a refusal here comes from the check, not from a connection.
    settings = InfrastructureSettings(kafka_bootstrap_servers="127.0.0.1:9", kafka_sasl_username="admin")
    with pytest.raises(WeakSourcePassword, match="SOURCE_PASSWORD"):
        grant_source_access(settings, "hr-system", password, timeout_s=1)
