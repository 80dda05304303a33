"""A source's SCRAM user and ACLs on a broker that enforces them, through librdkafka's admin API.

aiokafka has no ACL or SCRAM-user calls; confluent-kafka's AdminClient has both. Every call here
can be repeated: an ACL that exists is kept as it is, and the password is set again.
"""

import re
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TypeVar

from confluent_kafka import KafkaError, KafkaException

# Exported by the package, but not marked so for mypy.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from services.intake.domain.source_access import Grant, source_grants, source_principal
from shared.settings import InfrastructureSettings
from shared.topics import INCOMING_PREFIX

# Kafka accepts 4096 to 16384; both mechanisms are set, so either client setting logs in.
SCRAM_ITERATIONS = 8192
PASSWORD_RULE = re.compile(r"[A-Za-z0-9._~-]{16,}")

T = TypeVar("T")

_OPERATIONS = {"Read": AclOperation.READ, "Write": AclOperation.WRITE}
_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}


class AclsNotApplied(RuntimeError):
    """The broker refused, or did not keep, a source's user or one of its grants."""


class WeakSourcePassword(ValueError):
    """A source's password that is too short, or has characters Kafka's own tools cannot pass on."""


def binding(grant: Grant) -> AclBinding:
    """The grant as librdkafka's ACL: ALLOW from any host."""
    return AclBinding(
        _RESOURCES[grant.resource], grant.name, _PATTERNS[grant.pattern], f"User:{grant.principal}", "*",
        _OPERATIONS[grant.operation], AclPermissionType.ALLOW,
    )  # fmt: skip


def admin_config(settings: InfrastructureSettings) -> dict[str, str | int | float | bool]:
    """librdkafka's settings for the configured broker and SASL login (the operator's: admin in compose)."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": "needs-router-admin",
        "security.protocol": "SASL_SSL" if settings.kafka_use_tls else "SASL_PLAINTEXT",
        "sasl.mechanisms": settings.kafka_sasl_mechanism,
        "sasl.username": settings.kafka_sasl_username,
        "sasl.password": settings.kafka_sasl_password.get_secret_value(),
        # librdkafka's own log lines would reach the operator beside the one-line error; what they
        # say about the connection comes through error_cb into that line instead.
        "log_level": 0,
    }


def grant_source_access(
    settings: InfrastructureSettings, name: str, password: str, *, timeout_s: float = 30.0
) -> list[Grant]:
    """Set the source's SCRAM password and create its grants; return them once the broker lists them all."""
    if not PASSWORD_RULE.fullmatch(password):
        raise WeakSourcePassword("SOURCE_PASSWORD: at least 16 of A-Z a-z 0-9 . _ ~ - (e.g. openssl rand -hex 24)")
    principal = source_principal(name)
    admin = _Admin(settings)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(principal, ScramCredentialInfo(mechanism, SCRAM_ITERATIONS), password.encode())
        for mechanism in (ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256)
    ]
    for future in admin.client.alter_user_scram_credentials(upserts, request_timeout=timeout_s).values():
        admin.result(future, f"setting the SCRAM password of {principal}", timeout_s)
    wanted = source_grants(name)
    created = admin.client.create_acls([binding(grant) for grant in wanted], request_timeout=timeout_s)
    for grant in wanted:
        admin.result(created[binding(grant)], f"creating {grant.line()}", timeout_s)
    held = set(_acls(admin, principal=f"User:{principal}", timeout_s=timeout_s))
    missing = [grant.line() for grant in wanted if binding(grant) not in held]
    if missing:
        raise AclsNotApplied(f"the broker answered but does not list {', '.join(missing)}: does it enforce ACLs?")
    return wanted


def readers_of_every_source(settings: InfrastructureSettings, *, timeout_s: float = 30.0) -> list[str]:
    """The principals allowed to read every incoming topic by prefix (intake, from deploy/kafka/acls.txt)."""
    admin = _Admin(settings)
    found = _acls(admin, principal=None, timeout_s=timeout_s, topic_prefix=INCOMING_PREFIX)
    return sorted({acl.principal for acl in found if acl.operation in (AclOperation.READ, AclOperation.ALL)})


def _acls(
    admin: "_Admin", *, principal: str | None, timeout_s: float, topic_prefix: str | None = None
) -> Sequence[AclBinding]:
    # None matches any name, principal or host (the stubs say str, the filter takes None).
    wanted = AclBindingFilter(
        ResourceType.TOPIC if topic_prefix else ResourceType.ANY, topic_prefix,  # type: ignore[arg-type]
        ResourcePatternType.PREFIXED if topic_prefix else ResourcePatternType.ANY,
        principal, None,  # type: ignore[arg-type]
        AclOperation.ANY, AclPermissionType.ALLOW,
    )  # fmt: skip
    found: Sequence[AclBinding] = admin.result(
        admin.client.describe_acls(wanted, request_timeout=timeout_s), "listing ACLs", timeout_s
    )
    return found


class _Admin:
    """An AdminClient that keeps what librdkafka reports about the connection (a refused login, say).

    A request that fails for such a reason only says it timed out; the reason is in these reports.
    """

    def __init__(self, settings: InfrastructureSettings) -> None:
        self.reports: list[str] = []
        self.client = AdminClient(admin_config(settings), error_cb=self._report)

    def _report(self, error: KafkaError) -> None:
        self.reports.append(error.str())

    def result(self, future: "Future[T]", doing: str, timeout_s: float) -> T:
        try:
            return future.result(timeout=timeout_s + 5)
        except (KafkaException, TimeoutError) as error:
            self.client.poll(0)  # serves the reports queued meanwhile
            said = error.args[0].str() if isinstance(error, KafkaException) else f"no answer in {timeout_s:.0f} s"
            why = f" (the broker connection: {self.reports[-1]})" if self.reports else ""
            raise AclsNotApplied(f"{doing}: {said}{why}") from error
