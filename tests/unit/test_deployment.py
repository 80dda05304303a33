"""docker-compose.yml cannot run here (no Docker engine): keep it honest against the code."""

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import yaml

from services.cli import build_parser
from services.inbox.settings import InboxSettings
from services.intake.adapters.source_registry import source_topics
from services.intake.domain.source_access import InvalidSourceName, source_grants
from services.intake.settings import IntakeSettings
from services.routing.settings import RoutingSettings
from services.screening.settings import ScreeningSettings
from shared import topics
from shared.contracts.area_offices import area_offices
from shared.contracts.export import export_schemas
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.kafka import all_topics, province_codes
from shared.settings import InfrastructureSettings
from shared.topics import agency_topic

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ENV = {
    name.upper()
    for settings in (IntakeSettings, ScreeningSettings, RoutingSettings, InboxSettings)
    for name in settings.model_fields
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_kafka_is_apache_kafka_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = dict(line.split("=", 1) for line in (ROOT / kafka["env_file"]).read_text().splitlines()
               if line and not line.startswith("#"))  # fmt: skip
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka


def test_each_service_runs_a_command_the_cli_has(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name in ("intake", "screening", "routing", "inbox"):
        command = compose["services"][name]["command"]
        assert command == ["serve", name]
        parser.parse_args(command)
    parser.parse_args(compose["services"]["topics"]["command"])


def test_services_are_built_from_the_one_dockerfile_with_the_cli_as_entrypoint(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert 'ENTRYPOINT ["needs-router"]' in dockerfile
    for name in ("topics", "intake", "screening", "routing"):
        assert compose["services"][name]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_every_environment_variable_is_one_the_settings_read(compose: dict[str, Any]) -> None:
    for name in ("intake", "screening", "routing", "inbox", "topics"):
        env = compose["services"][name]["environment"]
        assert set(env) <= SETTINGS_ENV, set(env) - SETTINGS_ENV
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["DATABASE_URL"].startswith("postgresql://")


def test_services_wait_for_healthy_infrastructure_and_the_topics(compose: dict[str, Any]) -> None:
    for name in ("intake", "screening", "routing", "inbox"):
        depends = compose["services"][name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["topics"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in compose["services"]["postgres"]
    assert "healthcheck" in compose["services"]["intake"]


@pytest.fixture(scope="module")
def compose_spec() -> jsonschema.Draft201909Validator:
    """The compose-spec JSON Schema (tests/data/compose-spec.source.txt says where it comes from)."""
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
    # Its $schema, "http://json-schema.org/draft/2019-09/schema#", is that draft spelled the old way.
    assert schema["$schema"].startswith("http://json-schema.org/draft/2019-09/schema")
    return jsonschema.Draft201909Validator(schema)


def test_the_compose_file_is_valid_against_the_compose_spec_schema(
    compose: dict[str, Any], compose_spec: jsonschema.Draft201909Validator
) -> None:
    errors = compose_spec.iter_errors(compose)
    assert [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors] == []


def test_the_compose_spec_schema_rejects_what_compose_would(compose_spec: jsonschema.Draft201909Validator) -> None:
    wrong = {"services": {"a": {"image": "x", "restart_policy": "always", "healthcheck": {"test": 1}}}}
    assert {"/".join(map(str, error.absolute_path)) for error in compose_spec.iter_errors(wrong)} == {
        "services/a",  # restart_policy is not a service key (restart is)
        "services/a/healthcheck/test",  # a string or a list of strings
    }


def test_every_service_has_a_restart_policy_and_a_health_check(compose: dict[str, Any]) -> None:
    waited_for_completion = {
        name
        for service in compose["services"].values()
        for name, dependency in (service.get("depends_on") or {}).items()
        if dependency["condition"] == "service_completed_successfully"
    }
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            # A one-shot step: finishing with success is its health, and the services wait for that
            # (or, in a profile such as the scheduled backup, the operator who runs it does).
            assert name in waited_for_completion or service.get("profiles"), name
            assert service["healthcheck"] == {"disable": True}, name
        else:
            assert service.get("restart") == "unless-stopped", name
            assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
            assert {"interval", "timeout", "retries"} <= set(service["healthcheck"]), name


def test_consuming_services_are_checked_on_their_metrics_port(compose: dict[str, Any]) -> None:
    for name in ("screening", "routing"):
        service = compose["services"][name]
        port = int(service["environment"]["METRICS_PORT"])
        assert port == InfrastructureSettings(metrics_port=port).metrics_port != 0
        assert f"'http://127.0.0.1:{port}/metrics'" in service["healthcheck"]["test"][-1]


def test_the_database_password_is_escaped_into_the_url(compose: dict[str, Any]) -> None:
    password = "p@ss:/w?#rd%41 ไทย"
    for name in ("topics", "intake", "screening", "routing"):
        env = compose["services"][name]["environment"]
        assert urlsplit(env["DATABASE_URL"]).password is None, name
        reference = PASSWORD_REFERENCE.match(env["DATABASE_PASSWORD"])
        assert reference is not None, name
        assert reference["name"] == "POSTGRES_PASSWORD", name
        settings = InfrastructureSettings(database_url=env["DATABASE_URL"], database_password=password)
        url = urlsplit(settings.database_url)
        assert unquote(url.password or "") == password
        assert (url.username, url.hostname, url.port, url.path) == ("needs", "postgres", 5432, "/needs")


def test_the_intake_port_is_published_where_intake_listens(compose: dict[str, Any]) -> None:
    intake = compose["services"]["intake"]
    assert intake["environment"]["INTAKE_HOST"] == "0.0.0.0"
    assert intake["ports"] == [f"{intake['environment']['INTAKE_PORT']}:8080"]


def test_exported_schemas_match_the_contracts() -> None:
    assert export_schemas(ROOT / "shared/contracts/schemas", check=True) == []


# --- Kafka access control: SASL/SCRAM authentication and ACLs (deploy/KAFKA_SECURITY.md) ---

KAFKA_DIR = ROOT / "deploy/kafka"
ACLS_SCRIPT = KAFKA_DIR / "acls.sh"
START_SCRIPT = KAFKA_DIR / "start.sh"
SERVICES = ("intake", "screening", "routing", "inbox")
SERVICE_SETTINGS = {
    "intake": IntakeSettings, "screening": ScreeningSettings, "routing": RoutingSettings, "inbox": InboxSettings,
}  # fmt: skip
# The officers' inbox is the agencies' own screen: it reads what every office's queue carries.
AGENCY_QUEUE_READERS = {"inbox"}
# The topic agencies report case status on; shared.topics spells it CASE_STATUS once it exists there.
STATUS_TOPIC = getattr(topics, "CASE_STATUS", "cases.status.v1")
SCRAM_MECHANISMS = set(get_args(InfrastructureSettings.model_fields["kafka_sasl_mechanism"].annotation))
PASSWORD_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+):\?[^}]*\}$")


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL: an ALLOW of an operation on a resource to a principal."""

    principal: str
    operation: str  # Kafka's AclOperation name: READ, WRITE, IDEMPOTENT_WRITE
    resource: str  # topic, group, cluster
    pattern: str  # literal, prefixed
    name: str


def parse_grants(lines: str) -> set[Grant]:
    """Grant lines as acls.sh prints them: principal operation resource pattern name."""
    grants = set()
    for line in lines.splitlines():
        principal, operation, resource, pattern, name = line.split()
        operation = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).upper()  # IdempotentWrite -> IDEMPOTENT_WRITE
        grants.add(Grant(principal, operation, resource, pattern, name))
    return grants


def acls_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run deploy/kafka/acls.sh (no broker is contacted by plan, plan-agency or DRY_RUN=1)."""
    return subprocess.run(
        ["bash", str(ACLS_SCRIPT), *args],
        env={"PATH": os.environ["PATH"], **(env or {})}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def grants() -> set[Grant]:
    """Every grant deploy/kafka/acls.txt expands to, as the script that applies it expands it."""
    planned = acls_script("plan")
    assert planned.returncode == 0, planned.stderr
    return parse_grants(planned.stdout)


@pytest.fixture(scope="module")
def kafka_env() -> dict[str, str]:
    """deploy/kafka.env: the broker's settings as the image's variables."""
    lines = (ROOT / "deploy/kafka.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def server_property(kafka_env: dict[str, str], name: str) -> str:
    """A server property as the apache/kafka image renders it from KAFKA_<NAME> (dots as underscores)."""
    return kafka_env["KAFKA_" + name.upper().replace(".", "_")]


def password_variable(principal: str) -> str:
    """Where the acls step reads a principal's password (the rule acls.sh documents)."""
    return "KAFKA_" + principal.upper().replace("-", "_") + "_PASSWORD"


def by(grants: set[Grant], principal: str) -> set[Grant]:
    return {grant for grant in grants if grant.principal == principal}


def covers(grant: Grant, topic: str) -> bool:
    """True if the grant's resource pattern matches this topic name."""
    if grant.resource != "topic":
        return False
    return topic.startswith(grant.name) if grant.pattern == "prefixed" else topic == grant.name


def test_clients_can_only_connect_with_sasl_scram(kafka_env: dict[str, str], compose: dict[str, Any]) -> None:
    protocols = dict(
        entry.split(":") for entry in server_property(kafka_env, "listener.security.protocol.map").split(",")
    )
    listeners = dict(entry.split("://") for entry in server_property(kafka_env, "listeners").split(","))
    advertised = dict(entry.split("://") for entry in server_property(kafka_env, "advertised.listeners").split(","))
    # No PLAINTEXT or SSL-only listener: nothing can connect without authenticating, so no ANONYMOUS.
    assert set(protocols) == set(listeners)
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}
    # The one advertised listener is where the services connect, and it offers the mechanisms the code can use.
    assert list(advertised.values()) == [compose["services"]["intake"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"]]
    client = next(iter(advertised))
    assert set(server_property(kafka_env, "sasl.enabled.mechanisms").split(",")) == SCRAM_MECHANISMS
    assert f"KAFKA_LISTENER_NAME_{client}_SASL_ENABLED_MECHANISMS" not in kafka_env
    # Brokers talk to each other on that listener as the admin, with SCRAM.
    assert server_property(kafka_env, "inter.broker.listener.name") == client
    assert server_property(kafka_env, "sasl.mechanism.inter.broker.protocol") in SCRAM_MECHANISMS
    # The KRaft listener authenticates too: PLAIN with a static user (SCRAM users live in the metadata).
    controller = server_property(kafka_env, "controller.listener.names")
    assert controller in protocols
    assert controller not in advertised
    assert server_property(kafka_env, f"listener.name.{controller}.sasl.enabled.mechanisms") == "PLAIN"
    assert server_property(kafka_env, "sasl.mechanism.controller.protocol") == "PLAIN"


def test_kafka_denies_whatever_no_acl_allows(kafka_env: dict[str, str]) -> None:
    assert server_property(kafka_env, "authorizer.class.name") == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert server_property(kafka_env, "allow.everyone.if.no.acl.found") == "false"
    assert set(server_property(kafka_env, "super.users").split(";")) == {"User:admin", "User:controller"}
    assert server_property(kafka_env, "auto.create.topics.enable") == "false"
    assert "PASSWORD" not in (ROOT / "deploy/kafka.env").read_text().upper()


def test_the_acls_grant_exactly_what_each_principal_needs(grants: set[Grant]) -> None:
    def grant(principal: str, operation: str, resource: str, pattern: str, name: str) -> Grant:
        return Grant(principal, operation, resource, pattern, name)

    services = {
        grant("intake", "WRITE", "topic", "literal", topics.NEEDS_SUBMITTED),
        grant("intake", "WRITE", "topic", "literal", topics.NEEDS_SCREENED),  # re-drive of screened needs
        grant("intake", "WRITE", "topic", "literal", STATUS_TOPIC),  # agencies' reports taken over HTTP
        grant("intake", "WRITE", "topic", "prefixed", "agency."),  # personal_data.erased events
        grant("intake", "IDEMPOTENT_WRITE", "cluster", "literal", "kafka-cluster"),
        grant("intake", "READ", "topic", "literal", topics.NEEDS_SCREENED),  # intake's own copy
        grant("intake", "READ", "topic", "literal", topics.CASES_UPDATED),
        grant("intake", "READ", "topic", "literal", topics.NEEDS_DEAD_LETTERS),
        grant("intake", "READ", "group", "prefixed", f"{IntakeSettings().intake_group_prefix}-"),
        grant("intake", "READ", "topic", "prefixed", topics.INCOMING_PREFIX),  # every source's submissions
        grant("intake", "READ", "group", "literal", IntakeSettings().source_group_id),
        grant("intake", "WRITE", "topic", "prefixed", topics.RECEIPTS_PREFIX),
        grant("intake", "WRITE", "topic", "literal", topics.NEEDS_DEAD_LETTERS),
        grant("screening", "READ", "topic", "literal", topics.NEEDS_SUBMITTED),
        grant("screening", "READ", "group", "literal", ScreeningSettings().screening_group_id),
        grant("screening", "READ", "topic", "literal", topics.CASES_UPDATED),
        grant("screening", "READ", "group", "literal", ScreeningSettings().corrections_group_id),
        grant("screening", "READ", "topic", "literal", topics.SCREENER_DECISIONS),
        grant("screening", "READ", "group", "literal", ScreeningSettings().screener_decisions_group_id),
        grant("screening", "WRITE", "topic", "literal", topics.NEEDS_SCREENED),
        grant("screening", "WRITE", "topic", "literal", topics.NEEDS_DEAD_LETTERS),
        grant("screening", "IDEMPOTENT_WRITE", "cluster", "literal", "kafka-cluster"),
        grant("routing", "READ", "topic", "literal", topics.NEEDS_SCREENED),
        grant("routing", "READ", "group", "literal", RoutingSettings().routing_group_id),
        grant("routing", "READ", "topic", "literal", STATUS_TOPIC),
        grant("routing", "READ", "group", "literal", "case-status"),
        grant("routing", "WRITE", "topic", "prefixed", "agency."),
        grant("routing", "WRITE", "topic", "literal", topics.NEEDS_DEAD_LETTERS),
        grant("routing", "WRITE", "topic", "literal", topics.CASES_UPDATED),
        grant("routing", "IDEMPOTENT_WRITE", "cluster", "literal", "kafka-cluster"),
        grant("inbox", "READ", "topic", "prefixed", "agency."),  # the agencies' own screen
        grant("inbox", "READ", "topic", "literal", topics.CASES_UPDATED),
        grant("inbox", "READ", "group", "literal", InboxSettings().inbox_group_id),
        grant("inbox", "WRITE", "topic", "literal", STATUS_TOPIC),  # officers report as their agency does
        grant("inbox", "WRITE", "topic", "literal", topics.SCREENER_DECISIONS),
        grant("inbox", "WRITE", "topic", "literal", topics.NEEDS_DEAD_LETTERS),
        grant("inbox", "IDEMPOTENT_WRITE", "cluster", "literal", "kafka-cluster"),
    }
    agencies = {
        each
        for principal, topic_pattern, topic in [
            *((f"agency-{agency.value}", "prefixed", agency_topic(agency, "")) for agency in Agency),
            ("agency-dlpw-33", "literal", agency_topic(Agency.DLPW, "33")),
        ]
        for each in (
            grant(principal, "READ", "topic", topic_pattern, topic),
            grant(principal, "READ", "group", "prefixed", principal),
            grant(principal, "WRITE", "topic", "literal", STATUS_TOPIC),
        )
    }
    assert grants == services | agencies


def test_every_consumer_group_a_service_uses_is_granted_to_it(grants: set[Grant]) -> None:
    for name, settings in SERVICE_SETTINGS.items():
        for field, info in settings.model_fields.items():
            if field.endswith("_group_id"):
                assert Grant(name, "READ", "group", "literal", info.default) in grants, (name, field)


def test_every_agency_has_a_national_principal_reading_only_its_own_provinces(grants: set[Grant]) -> None:
    every_queue = {agency: [agency_topic(agency, code) for code in province_codes()] for agency in Agency}
    for agency in Agency:
        principal = f"agency-{agency.value}"
        reads = {grant for grant in by(grants, principal) if grant.operation == "READ" and grant.resource == "topic"}
        assert reads, f"no national principal for {agency.value}"
        for other, queues in every_queue.items():
            readable = [queue for queue in queues if any(covers(grant, queue) for grant in reads)]
            assert readable == (queues if other is agency else []), (principal, other.value)
    # Consumer-group prefixes agency-<code> must not reach into another agency's groups.
    codes = [agency.value for agency in Agency]
    assert not [(a, b) for a in codes for b in codes if a != b and b.startswith(a)]


def test_no_service_principal_reads_an_agency_queue(grants: set[Grant]) -> None:
    queues = [agency_topic(agency, code) for agency in Agency for code in province_codes()]
    readers = {
        grant.principal for grant in grants if grant.operation == "READ" for queue in queues if covers(grant, queue)
    }
    assert readers.isdisjoint(set(SERVICES) - AGENCY_QUEUE_READERS)
    assert all(reader.startswith("agency-") or reader in AGENCY_QUEUE_READERS for reader in readers)


def test_every_topic_granted_is_one_the_code_creates(grants: set[Grant]) -> None:
    a_source = {topic.name for topic in source_topics(InfrastructureSettings(), "hr-system")}
    created = {topic.name for topic in all_topics(InfrastructureSettings())} | {STATUS_TOPIC} | a_source
    for grant in grants:
        if grant.resource == "topic":
            assert any(covers(grant, name) for name in created), grant
            if grant.pattern == "literal":
                assert grant.name in created, grant


def test_a_provincial_principal_reads_only_its_own_queue_and_its_area_offices() -> None:
    created = {topic.name for topic in all_topics(InfrastructureSettings())}
    for agency in Agency:
        for code in (province_codes()[0], "10", "33", province_codes()[-1]):
            planned = acls_script("plan-agency", agency.value, code)
            assert planned.returncode == 0, planned.stderr
            principal = f"agency-{agency.value}-{code}"
            areas = [office for office in area_offices().offices if office.province == Office(agency, code)]
            assert parse_grants(planned.stdout) == {
                Grant(principal, "READ", "topic", "literal", agency_topic(agency, code)),
                Grant(principal, "READ", "group", "prefixed", principal),
                Grant(principal, "WRITE", "topic", "literal", STATUS_TOPIC),
                *(Grant(principal, "READ", "topic", "literal", office.topic) for office in areas),
            }
            assert {agency_topic(agency, code), *(office.topic for office in areas)} <= created
    assert len([office for office in area_offices().offices if office.province == Office(Agency.DOE, "10")]) == 10


def test_an_area_office_principal_reads_only_its_own_queue() -> None:
    created = {topic.name for topic in all_topics(InfrastructureSettings())}
    for office in area_offices().offices:
        assert office.area is not None
        planned = acls_script("plan-agency", office.agency.value, office.province_code, office.area)
        assert planned.returncode == 0, planned.stderr
        principal = f"agency-{office.agency.value}-{office.province_code}-{office.area}"
        assert parse_grants(planned.stdout) == {
            Grant(principal, "READ", "topic", "literal", office.topic),
            Grant(principal, "READ", "group", "prefixed", principal),
            Grant(principal, "WRITE", "topic", "literal", STATUS_TOPIC),
        }
        assert office.topic in created


def test_the_acls_list_exactly_the_area_offices_the_code_routes_to() -> None:
    listed = {
        tuple(line.split()[1:])
        for line in (KAFKA_DIR / "acls.txt").read_text().splitlines()
        if line.startswith("office ")
    }
    assert listed == {(o.agency.value, o.province_code, o.area) for o in area_offices().offices}


@pytest.mark.parametrize(("arguments", "problem"), [
    (("plan-agency", "police", "10"), "unknown agency"),
    (("plan-agency", "dsd", "1"), "not two digits"),
    (("plan-agency", "dsd", "10;x"), "not two digits"),
    (("add-agency", "dsd", "1x"), "not two digits"),
    (("plan-agency", "doe", "10", "area99"), "not an area office"),
    (("plan-agency", "doe", "33", "area3"), "not an area office"),
])  # fmt: skip
def test_the_acls_script_refuses_an_unknown_agency_or_province(arguments: tuple[str, ...], problem: str) -> None:
    refused = acls_script(
        *arguments, env={"DRY_RUN": "1", "KAFKA_ADMIN_PASSWORD": "a" * 24, "AGENCY_PASSWORD": "b" * 24}
    )
    assert refused.returncode != 0
    assert problem in refused.stderr


def dry_run_commands(*args: str, env: dict[str, str]) -> list[list[str]]:
    ran = acls_script(*args, env={"DRY_RUN": "1", **env})
    assert ran.returncode == 0, ran.stderr
    return [shlex.split(line) for line in ran.stdout.splitlines() if line.startswith("/opt/kafka/bin/")]


def acl_of(command: list[str]) -> Grant:
    """The grant a `kafka-acls.sh --add` command line makes."""
    flags = {"--add", "--cluster"}  # the options that take no value
    words = iter(command[1:])
    options = {word: "" if word in flags else next(words) for word in words}
    target = next((flag for flag in ("--topic", "--group", "--cluster") if flag in options), None)
    assert target is not None, command
    name = "kafka-cluster" if target == "--cluster" else options[target]
    return parse_grants(
        f"{options['--allow-principal'].removeprefix('User:')} {options['--operation']} {target[2:]}"
        f" {options['--resource-pattern-type']} {name}"
    ).pop()


def test_applying_the_acls_creates_each_user_and_each_acl_as_the_admin(
    grants: set[Grant], compose: dict[str, Any]
) -> None:
    principals = {grant.principal for grant in grants}
    env = {password_variable(principal): f"{principal}-password-0123" for principal in principals}
    commands = dry_run_commands("apply", env={**env, "KAFKA_ADMIN_PASSWORD": "admin-password-0123"})
    bootstrap = compose["services"]["acls"]["environment"]["KAFKA_BOOTSTRAP"]
    for command in commands:
        assert command[1:5] == ["--bootstrap-server", bootstrap, "--command-config", command[4]]
    users = [command for command in commands if command[0].endswith("kafka-configs.sh")]
    assert sorted(command[command.index("--entity-name") + 1] for command in users) == sorted(principals)
    for command in users:  # both mechanisms, so a client may use either; the password itself is masked
        assert command[command.index("--add-config") + 1] == "SCRAM-SHA-512=[password=***],SCRAM-SHA-256=[password=***]"
    acls = [command for command in commands if command[0].endswith("kafka-acls.sh")]
    assert all("--add" in command and "--deny-principal" not in command for command in acls)
    assert {acl_of(command) for command in acls} == grants
    assert len(acls) == len(grants)


def test_applying_the_acls_without_a_principals_password_fails(grants: set[Grant]) -> None:
    refused = acls_script("apply", env={"DRY_RUN": "1", "KAFKA_ADMIN_PASSWORD": "admin-password-0123"})
    assert refused.returncode != 0
    assert "no password for" in refused.stderr


def test_an_operator_adds_a_provincial_principal_with_one_command(compose: dict[str, Any]) -> None:
    acls = compose["services"]["acls"]
    # The one-liner: docker compose run --rm -e AGENCY_PASSWORD=... acls add-agency dsd 10
    assert acls["entrypoint"] == ["bash", "/opt/needs-router/kafka/acls.sh"]
    commands = dry_run_commands(
        "add-agency", "dsd", "10", env={"KAFKA_ADMIN_PASSWORD": "admin-password-0123", "AGENCY_PASSWORD": "p" * 20}
    )
    tools = [Path(command[0]).name for command in commands]
    assert tools == ["kafka-topics.sh", "kafka-configs.sh", "kafka-acls.sh", "kafka-acls.sh", "kafka-acls.sh"]
    assert commands[0][-2:] == ["--topic", agency_topic(Agency.DSD, "10")]  # refuses a province with no queue
    assert commands[1][commands[1].index("--entity-name") + 1] == "agency-dsd-10"
    assert {acl_of(command) for command in commands[2:]} == {
        Grant("agency-dsd-10", "READ", "topic", "literal", "agency.dsd.10"),
        Grant("agency-dsd-10", "READ", "group", "prefixed", "agency-dsd-10"),
        Grant("agency-dsd-10", "WRITE", "topic", "literal", STATUS_TOPIC),
    }
    short = acls_script(
        "add-agency", "dsd", "10", env={"DRY_RUN": "1", "KAFKA_ADMIN_PASSWORD": "a" * 20, "AGENCY_PASSWORD": "x"}
    )
    assert short.returncode != 0  # a password too short (or with characters that break the SCRAM syntax)


def test_each_service_connects_as_its_own_principal_with_settings_the_code_reads(compose: dict[str, Any]) -> None:
    sasl_env = {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_MECHANISM", "KAFKA_USE_TLS"}
    assert sasl_env <= {name.upper() for name in InfrastructureSettings.model_fields}
    for name, username in (*((service, service) for service in SERVICES), ("topics", "admin")):
        env = compose["services"][name]["environment"]
        assert sasl_env <= set(env), name
        assert env["KAFKA_SASL_USERNAME"] == username
        assert env["KAFKA_SASL_MECHANISM"] in SCRAM_MECHANISMS
        assert env["KAFKA_USE_TLS"] == "false"
        reference = PASSWORD_REFERENCE.match(env["KAFKA_SASL_PASSWORD"])
        assert reference is not None, f"{name}: the password must come from the environment, not the file"
        assert reference["name"] == password_variable(username)
        settings = InfrastructureSettings(**{key.lower(): value for key, value in env.items() if key in sasl_env})
        assert settings.kafka_sasl_username == username


def test_the_acls_step_has_every_principals_password_and_runs_before_the_services(
    grants: set[Grant], compose: dict[str, Any]
) -> None:
    acls = compose["services"]["acls"]
    assert acls["image"] == compose["services"]["kafka"]["image"]
    assert acls["restart"] == "no"
    assert acls["depends_on"]["kafka"]["condition"] == "service_healthy"
    env = acls["environment"]
    for principal in {grant.principal for grant in grants} | {"admin"}:
        variable = password_variable(principal)
        reference = PASSWORD_REFERENCE.match(env[variable])
        assert reference is not None, principal
        assert reference["name"] == variable, principal
    for name in SERVICES:
        assert compose["services"][name]["depends_on"]["acls"]["condition"] == "service_completed_successfully"


def test_no_secret_is_in_the_compose_file_and_the_example_env_names_them_all(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "KEY" in key:
                assert PASSWORD_REFERENCE.match(str(value)), key
    example = dict(
        line.split("=", 1) for line in (ROOT / "deploy/.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    assert set(example) == required
    assert all(value == "" for value in example.values()), "the example holds names, never values"


def test_kafka_runs_the_start_script_and_its_health_check_authenticates(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert "./deploy/kafka:/opt/needs-router/kafka:ro" in kafka["volumes"]
    assert kafka["entrypoint"] == ["bash", "/opt/needs-router/kafka/start.sh"]
    assert set(kafka["environment"]) == {"SCRAM_ADMIN_PASSWORD", "CONTROLLER_PASSWORD"}  # not KAFKA_*: see start.sh
    assert "--command-config /opt/kafka/config/admin-client.properties" in kafka["healthcheck"]["test"][1]
    assert any(volume.endswith(":/var/lib/kafka/data") for volume in kafka["volumes"])


def test_the_start_script_formats_with_the_admin_and_configures_jaas_for_each_listener(
    tmp_path: Path, kafka_env: dict[str, str]
) -> None:
    """Run start.sh against stand-ins for the image's scripts and Kafka's tools."""
    home, image = tmp_path / "kafka", tmp_path / "image"
    (home / "bin").mkdir(parents=True)
    (home / "config").mkdir()
    image.mkdir()
    record = tmp_path / "calls"
    stand_ins = {
        image / "configureDefaults": "",
        # Like the image: every KAFKA_* variable becomes a property.
        image / "configure": 'env | sed -n "s/^KAFKA_\\([A-Z_]*\\)=\\(.*\\)/\\1=\\2/p" | grep -v "^HOME=\\|^IMAGE" '
        '| while IFS="=" read -r k v; do k=${k,,}; echo "${k//_/.}=$v"; done > "$KAFKA_HOME/config/server.properties"',
        home / "bin/kafka-storage.sh": f'printf "%s\\n" storage "$@" >> {record}',
        home / "bin/kafka-server-start.sh": f'printf "%s\\n" server "$@" >> {record}; env >> {record}.env',
    }
    for path, body in stand_ins.items():
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)
    admin, controller = "admin-password-0123", "controller-password-0123"
    env = {"PATH": os.environ["PATH"], "KAFKA_HOME": str(home), "KAFKA_IMAGE_SCRIPTS": str(image), **kafka_env,
           "SCRAM_ADMIN_PASSWORD": admin, "CONTROLLER_PASSWORD": controller}  # fmt: skip
    started = subprocess.run(["bash", str(START_SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr

    config = home / "config/server.properties"
    properties = dict(line.split("=", 1) for line in config.read_text().splitlines() if "=" in line)
    assert properties["authorizer.class.name"].endswith("StandardAuthorizer")
    scram = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="{admin}";'
    for mechanism in server_property(kafka_env, "sasl.enabled.mechanisms").split(","):
        assert properties[f"listener.name.client.{mechanism.lower()}.sasl.jaas.config"] == scram
    assert properties["listener.name.controller.plain.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="controller" password="{controller}" user_controller="{controller}";'
    )
    assert config.stat().st_mode & 0o077 == 0
    client = dict(line.split("=", 1) for line in (home / "config/admin-client.properties").read_text().splitlines())
    assert client == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": scram,
    }

    calls = record.read_text().split("server\n")
    storage, server = calls[0].splitlines(), calls[1].splitlines()
    assert storage[:2] == ["storage", "format"]
    assert "--ignore-formatted" in storage
    assert storage[storage.index("--cluster-id") + 1] == kafka_env["CLUSTER_ID"]
    assert storage[storage.index("--config") + 1] == str(config)
    added = [storage[index + 1] for index, word in enumerate(storage) if word == "--add-scram"]
    assert added == [f"{mechanism}=[name=admin,password={admin}]" for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256")]
    assert server == [str(config)]
    assert admin not in Path(f"{record}.env").read_text()  # the broker's environment keeps no password


def test_the_start_script_refuses_a_password_that_would_break_the_jaas_syntax(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "KAFKA_HOME": str(tmp_path), "KAFKA_IMAGE_SCRIPTS": str(tmp_path),
           "SCRAM_ADMIN_PASSWORD": 'abc"; x="0123456789', "CONTROLLER_PASSWORD": "c" * 20}  # fmt: skip
    refused = subprocess.run(["bash", str(START_SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0
    assert "KAFKA_ADMIN_PASSWORD" in refused.stderr


@pytest.mark.parametrize("script", sorted(KAFKA_DIR.glob("*.sh")), ids=lambda path: path.name)
def test_the_scripts_are_valid_bash(script: Path) -> None:
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert shutil.which("shellcheck"), "shellcheck is missing: `make test` installs it (apt-get install shellcheck)"
    linted = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, timeout=60)
    assert linted.returncode == 0, linted.stdout


def test_a_source_reaches_only_its_own_topics_and_intake_reads_every_source(grants: set[Grant]) -> None:
    # `needs-router sources add hr-system` creates exactly these (the one definition, also printed by it).
    source = {
        Grant(g.principal, g.operation.upper(), g.resource, g.pattern, g.name) for g in source_grants("hr-system")
    }
    assert source == {
        Grant("source-hr-system", "WRITE", "topic", "literal", topics.incoming_topic("hr-system")),
        Grant("source-hr-system", "READ", "topic", "literal", topics.receipts_topic("hr-system")),
        Grant("source-hr-system", "READ", "group", "prefixed", "source-hr-system"),
    }
    made = {topic.name for topic in source_topics(InfrastructureSettings(), "hr-system")}
    assert {grant.name for grant in source if grant.resource == "topic"} == made
    # Literal names: a source named like the start of another's name gets none of its topics.
    for other in ("hr", "hr-system-2"):
        for topic in source_topics(InfrastructureSettings(), other):
            assert not any(covers(grant, topic.name) for grant in source)
    # Intake needs nothing per source: its standing grant from acls.txt covers any source added later.
    intake_reads = {grant for grant in by(grants, "intake") if grant.operation == "READ"}
    assert any(covers(grant, topics.incoming_topic("hr-system")) for grant in intake_reads)
    assert not any(grant.principal.startswith("source-") for grant in grants)  # acls.txt grants no source
    with pytest.raises(InvalidSourceName, match=r"'HR\.system'"):
        source_grants("HR.system")
