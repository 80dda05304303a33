"""What an operator's command says when its settings, input or infrastructure are wrong: one line."""

import asyncio
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
from pydantic import ValidationError

from shared.settings import InfrastructureSettings

# Long enough for a server under load, short enough that an operator is not left waiting.
REACH_TIMEOUT_S = 10.0


class OperatorError(Exception):
    """A problem the operator can fix, said in one line (the CLI prints it and exits with 2)."""


def reachable_infrastructure(*, kafka: bool, database: bool) -> InfrastructureSettings:
    """The settings from the environment, valid, with the broker and database asked for configured and answering."""
    try:
        settings = InfrastructureSettings()
    except ValidationError as invalid:
        raise OperatorError(settings_problem(invalid)) from None
    settings.require(kafka=kafka, database=database)
    asyncio.run(_check_reachable(settings, kafka=kafka, database=database))
    return settings


def settings_problem(invalid: ValidationError) -> str:
    """Each invalid setting by its environment variable, on one line."""
    problems = []
    for error in invalid.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        field = "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{field}: {message}" if field else message)
    return "invalid settings: " + "; ".join(problems)


def read_text(path: Path) -> str:
    """A file's text, or an OperatorError that names the file and the reason."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OperatorError(f"cannot read {path}: {_reason(error)}") from None


def write_text(path: Path, text: str) -> None:
    """Write a file, or raise an OperatorError that names the file and the reason."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OperatorError(f"cannot write {path}: {_reason(error)}") from None


async def _check_reachable(settings: InfrastructureSettings, *, kafka: bool, database: bool) -> None:
    if database:
        await _check_database(settings.database_url)
    if kafka:
        await _check_broker(settings)


async def _check_database(database_url: str) -> None:
    try:
        connection = await asyncpg.connect(database_url, timeout=REACH_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise OperatorError(
            f"cannot reach the database at {database_address(database_url)} (DATABASE_URL): {_reason(error)}"
        ) from None
    await connection.close()


async def _check_broker(settings: InfrastructureSettings) -> None:
    # Imported here as the CLI imports its commands: `--version` or `eval` need no Kafka client.
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaConnectionError, KafkaError

    from shared.kafka import admin_client_options

    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="needs-router-cli",
        request_timeout_ms=int(REACH_TIMEOUT_S * 1000),
        **admin_client_options(settings),
    )
    # aiokafka logs each failed connection itself; the operator gets the one line below instead.
    aiokafka_log = logging.getLogger("aiokafka")
    level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    try:
        await asyncio.wait_for(admin.start(), REACH_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError) as error:
        reason = "no broker answered" if isinstance(error, KafkaConnectionError) else _reason(error)
        raise OperatorError(
            f"cannot reach the broker at {settings.kafka_bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS): {reason}"
        ) from None
    finally:
        await admin.close()
        aiokafka_log.setLevel(level)


def database_address(database_url: str) -> str:
    """Where a database URL points, without its user or password."""
    try:
        parts = urlsplit(database_url)
        host = parts.hostname or parse_qs(parts.query).get("host", ["the local socket"])[0]
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an address that is not a valid URL"
    return f"{host}{port}{parts.path}"


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {REACH_TIMEOUT_S:g} s"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
