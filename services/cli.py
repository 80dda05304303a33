"""``needs-router``: run the pipeline, one service, or an operator's task."""

import argparse
import asyncio
import importlib.metadata
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg

from services.operator_errors import OperatorError, reachable_infrastructure, read_text, write_text
from shared.contracts.need_types import Agency
from shared.settings import InfrastructureSettings, MissingInfrastructure
from shared.topics import INCOMING_PREFIX, incoming_topic, receipts_topic

_AGENCIES = [agency.value for agency in Agency]


def _serve(args: argparse.Namespace) -> int:
    if args.service == "intake":
        from services.intake.app import serve
    elif args.service == "screening":
        from services.screening.app import serve
    elif args.service == "inbox":
        from services.inbox.app import serve
    else:
        from services.routing.app import serve
    serve()
    return 0


def _up(args: argparse.Namespace) -> int:
    from services.supervisor import up

    # What is configured must answer; what is not, `up` starts embedded.
    reachable_infrastructure(
        kafka=bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")), database=bool(os.environ.get("DATABASE_URL"))
    )
    return up(port=args.port, replicas=args.replicas, inbox_port=args.inbox_port)


def _migrate(_: argparse.Namespace) -> int:
    from shared.database import migrate

    settings = reachable_infrastructure(kafka=False, database=True)
    applied = asyncio.run(migrate(settings.database_url, role_passwords=settings.service_role_passwords()))
    print(f"applied: {', '.join(applied) or 'nothing (up to date)'}")
    return 0


def _create_topics(_: argparse.Namespace) -> int:
    from shared.kafka import all_topics, create_topics

    settings = reachable_infrastructure(kafka=True, database=False)
    created = asyncio.run(create_topics(settings, all_topics(settings)))
    print(f"created {created} topics")
    return 0


def _routes(args: argparse.Namespace) -> int:
    from services.routing.domain.routing_table import IncompleteRoutingTable, InvalidRoutingRule
    from services.routing.entrypoints.commands import list_routes, set_route, unset_route

    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    place = {"province_code": getattr(args, "province", None), "district_code": getattr(args, "district", None)}
    try:
        if args.routes_command == "set":
            asyncio.run(set_route(database_url, key=args.key, agency=args.agency, **place))
        elif args.routes_command == "unset":
            asyncio.run(unset_route(database_url, key=args.key, **place))
    except InvalidRoutingRule as invalid:
        print(f"needs-router: refused: {invalid}", file=sys.stderr)
        return 2
    except IncompleteRoutingTable as incomplete:
        print(f"needs-router: refused, the table would leave types unroutable: {incomplete}", file=sys.stderr)
        return 2
    for rule in asyncio.run(list_routes(database_url)):
        print(f"{rule.key:<18} {rule.target}" + (f"  ({rule.place})" if rule.rank else ""))
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from shared.dead_letter_replay import replay_dead_letters
    from shared.dead_letter_store import StoredDeadLetter, list_dead_letters

    settings = reachable_infrastructure(kafka=args.dlq_command == "replay", database=True)
    if args.dlq_command == "replay":
        replayed = asyncio.run(replay_dead_letters(settings, args.id or None))
        print(f"replayed {len(replayed)} dead letters")
        for event_id in replayed:
            print(event_id)
        return 0

    async def newest() -> list[StoredDeadLetter]:
        connection = await asyncpg.connect(settings.database_url)
        try:
            return await list_dead_letters(connection, limit=args.limit, include_replayed=args.all)
        finally:
            await connection.close()

    for letter in asyncio.run(newest()):
        print(json.dumps(letter.summary(), ensure_ascii=False))
    return 0


def _keys(args: argparse.Namespace) -> int:
    from services.intake.adapters.personal_data import generate_key
    from services.intake.domain.api_keys import InvalidKeyScope, split_token
    from services.intake.use_cases.access_admin import create_api_key, revoke_api_key

    if args.keys_command == "personal-data-key":
        print(f"PERSONAL_DATA_KEY={generate_key()}")
        return 0
    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    if args.keys_command == "revoke":
        # The key id, or the whole key as printed by `keys create` (its id is inside).
        args.key_id = (split_token(args.key_id) or (args.key_id, ""))[0]
        if not asyncio.run(revoke_api_key(database_url, args.key_id)):
            print(f"needs-router: no active key {args.key_id}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id}")
        return 0
    try:
        key = asyncio.run(
            create_api_key(
                database_url, role=args.role, owner=args.owner, agency=args.agency,
                provinces=args.province or [], valid_days=args.valid_days, offices=args.office or [],
            )
        )  # fmt: skip
    except InvalidKeyScope as invalid:
        print(f"needs-router: {invalid}", file=sys.stderr)
        return 2
    print(f"KEY_ID={key.key_id}")
    print("# shown once: only its hash is stored")
    print(f"API_KEY={key.token}")
    return 0


def _rotate_personal_data(args: argparse.Namespace) -> int:
    from services.intake.adapters.personal_data import InvalidPersonalDataKey, PersonalDataCipher
    from services.intake.settings import IntakeSettings
    from services.intake.use_cases.key_rotation import Progress, RotationRefused, rotate_personal_data

    if args.batch_size < 1:
        print("needs-router: --batch-size must be at least 1", file=sys.stderr)
        return 2
    settings = IntakeSettings().require(kafka=False)

    def report(progress: Progress) -> None:
        print(f"key {progress.key_id}: {progress.resealed} of {progress.to_reseal} re-sealed", flush=True)

    async def rotate() -> dict[str, int]:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        try:
            return await rotate_personal_data(pool, cipher, batch_size=args.batch_size, progress=report)
        finally:
            await pool.close()

    try:
        cipher = PersonalDataCipher.from_base64(settings.personal_data_key.get_secret_value())
        remaining = asyncio.run(rotate())
    except (InvalidPersonalDataKey, RotationRefused) as refused:
        print(f"needs-router: {refused}", file=sys.stderr)
        return 2
    for key_id in sorted(cipher.key_ids | set(remaining)):
        if key_id == cipher.current_key_id:
            print(f"key {key_id}: current, seals {remaining.get(key_id, 0)} national IDs")
        elif remaining.get(key_id):
            print(f"key {key_id}: still seals {remaining[key_id]} (written meanwhile by an intake on the old key,"
                  " or locked): run this again")  # fmt: skip
        else:
            print(f"key {key_id}: seals nothing; retire it with `needs-router keys retire-personal-data-key"
                  f" {key_id}`, then remove it from PERSONAL_DATA_KEY")  # fmt: skip
    return 1 if any(count for key_id, count in remaining.items() if key_id != cipher.current_key_id) else 0


def _retire_personal_data_key(args: argparse.Namespace) -> int:
    from services.intake.adapters.personal_data import InvalidPersonalDataKey, PersonalDataCipher
    from services.intake.settings import IntakeSettings
    from services.intake.use_cases.key_rotation import KeyStillNeeded, retire_key

    settings = IntakeSettings().require(kafka=False)
    try:
        sealing = PersonalDataCipher.from_base64(settings.personal_data_key.get_secret_value()).current_key_id
        retired = asyncio.run(retire_key(settings.database_url, args.key_id, sealing_key_id=sealing))
    except (InvalidPersonalDataKey, KeyStillNeeded) as needed:
        print(f"needs-router: {needed}", file=sys.stderr)
        return 1
    print(f"retired {args.key_id}" if retired else f"{args.key_id} was already retired")
    return 0


def _backup_or_restore(args: argparse.Namespace) -> int:
    from services.operations.backup import BackupFailed, backup, restore

    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    action = backup if args.command == "backup" else restore
    try:
        done = action(database_url, Path(args.path))
    except BackupFailed as failed:
        print(f"needs-router {args.command}: {failed}", file=sys.stderr)
        return 1
    print(f"{args.command}: {done.path} ({done.size_bytes:,} bytes, {done.needs:,} needs) with {done.tool},"
          f" PostgreSQL {done.server_version}")  # fmt: skip
    return 0


def _sources(args: argparse.Namespace) -> int:
    from services.intake.adapters.source_registry import add_source, list_sources
    from services.intake.domain.source_access import InvalidSourceName, check_source_name

    if args.sources_command == "add":
        try:
            name = check_source_name(args.name)
        except InvalidSourceName as invalid:
            raise OperatorError(str(invalid)) from None
        # Asked for before anything is made or reached, so that a missing password leaves no half-added source.
        with_logins = bool(reachable_infrastructure(kafka=False, database=False).kafka_sasl_username)
        password = os.environ.get("SOURCE_PASSWORD", "")
        if with_logins and not password:
            raise OperatorError("SOURCE_PASSWORD: set it to the new source's password (e.g. openssl rand -hex 24)")
        settings = reachable_infrastructure(kafka=True, database=True)
        added = asyncio.run(add_source(settings, name))
        print(f"{'added' if added else 'already added'} {name}: it writes {incoming_topic(name)}"
              f" and reads {receipts_topic(name)}")  # fmt: skip
        _source_acls(settings, name, password)
        return 0
    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    for source in asyncio.run(list_sources(database_url)):
        print(f"{source.name:<24} {source.added_at.isoformat()}")
    return 0


def _source_acls(settings: InfrastructureSettings, name: str, password: str) -> None:
    """The source's SCRAM user and ACLs, where the broker has logins (compose); the embedded broker has neither."""
    if not settings.kafka_sasl_username:
        print("no ACLs to add: this broker is configured without SASL (KAFKA_SASL_USERNAME is unset), so it has"
              " no logins and no ACLs, and any client that reaches it may write any topic")  # fmt: skip
        return
    from services.intake.adapters.kafka_acls import (
        AclsNotApplied,
        WeakSourcePassword,
        grant_source_access,
        readers_of_every_source,
    )

    try:
        grants = grant_source_access(settings, name, password)
        readers = readers_of_every_source(settings)
    except (AclsNotApplied, WeakSourcePassword) as failed:
        raise OperatorError(f"sources add {name}: {failed} (its topics and record are kept: run it again)") from None
    print(f"as {settings.kafka_sasl_username}: set the password of {grants[0].principal} and granted")
    for grant in grants:
        print(f"  {grant.line()}")
    if not readers:
        raise OperatorError(f"nobody may read {INCOMING_PREFIX}* by prefix, so intake cannot take {name}'s"
                            " submissions: run the acls step (deploy/kafka/acls.txt grants it to intake)")  # fmt: skip
    print(f"{', '.join(readers)} read(s) every {INCOMING_PREFIX}* topic by prefix, {incoming_topic(name)} included")


def _audit(args: argparse.Namespace) -> int:
    from services.intake.use_cases.access_admin import audit_trail

    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    for entry in asyncio.run(audit_trail(database_url, args.need)):
        print(json.dumps(entry, ensure_ascii=False))
    return 0


def _agency(args: argparse.Namespace) -> int:
    from services.agency_client.listener import listen
    from services.agency_client.offices import listened_office
    from shared.contracts.offices import InvalidOfficeName

    try:
        office = listened_office(Agency(args.agency), province=args.province, office=args.office)
    except InvalidOfficeName as invalid:
        print(f"needs-router: --office: {invalid}", file=sys.stderr)
        return 2
    settings = reachable_infrastructure(kafka=True, database=False)
    listen(agency=Agency(args.agency), office=office, accept=args.accept, settings=settings)
    return 0


def _schemas(args: argparse.Namespace) -> int:
    from shared.contracts.export import export_schemas

    stale = export_schemas(Path(args.out), check=args.check)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `needs-router schemas`", file=sys.stderr)
        return 1
    return 0


def _related_pairs(args: argparse.Namespace) -> int:
    from services.routing.domain.related_pairs import report

    path = Path(args.path)
    if not path.is_file():
        raise OperatorError(f"related-pairs: {path}: no such file")
    print(report(path, args.threshold))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from services.screening.domain.classifier import Classifier
    from services.screening.domain.evaluation import (
        InvalidLabelledLine,
        evaluate,
        evaluate_by_source,
        format_by_source,
        format_table,
        parse_labelled_records,
    )
    from services.screening.domain.model import ModelError

    try:
        classifier = Classifier.from_model_bytes(Path(args.model).read_bytes()) if args.model else Classifier.load()
    except (OSError, ModelError) as error:
        raise OperatorError(f"eval: --model {args.model}: {error}") from None
    path = Path(args.path)
    try:
        records = parse_labelled_records(read_text(path), path)
    except InvalidLabelledLine as invalid:
        raise OperatorError(str(invalid)) from None
    if args.by_source:
        print(format_by_source(evaluate_by_source(classifier, records)))
        print()
    result = evaluate(classifier, [(record.text, record.labels) for record in records])
    print(format_table(result))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        from training.examples import training_examples
        from training.train import train
    except ImportError as error:
        missing_extra = f"train: the training extra is not installed ({error.name}); pip install -e '.[training]'"
        raise OperatorError(missing_extra) from None
    corrections = [Path(path) for path in args.corrections]
    missing = [str(path) for path in corrections if not path.is_file()]
    if missing:
        raise OperatorError(f"train: --corrections: no such file: {', '.join(missing)}")
    # Registered as a candidate where a database is configured; `models promote` decides if it goes live.
    database_url = reachable_infrastructure(kafka=False, database=True).database_url if _database_configured() else None
    try:
        trained = train(training_examples(corrections))
    except ValueError as error:
        raise OperatorError(f"train: {error}") from None
    report = trained.cross_validation
    figures = report["rules_and_model"]
    print(
        f"trained on {report['items']} examples ({len(corrections)} corrections files); cross-validated macro-F1"
        f" {figures['macro_f1']}, exact match {figures['exact_match']}",
        file=sys.stderr,
    )
    if args.out or database_url is None:
        out = Path(args.out or f"screening-model-{report['version']}.json")
        write_text(out, trained.model.decode())
        print(f"model file: {out}", file=sys.stderr)
    if database_url is not None:
        from services.screening.use_cases.model_admin import register_trained

        summary = {"items": report["items"], "corrections_files": [path.name for path in corrections], **figures}
        version, new = asyncio.run(register_trained(database_url, trained.model, summary))
        print(f"{'registered candidate' if new else 'already registered'} {version}", file=sys.stderr)
        print(version)
    else:
        print(report["version"])
    return 0


def _database_configured() -> bool:
    return bool(os.environ.get("DATABASE_URL"))


def _bench(args: argparse.Namespace) -> int:
    if args.related_needs:
        return _bench_related_needs(args)
    if args.source_intake:
        return _bench_source_intake(args)
    try:
        from benchmark.errors import BenchmarkFailed
        from benchmark.report import format_table
        from benchmark.run import BenchOptions, run_benchmark
    except ModuleNotFoundError as missing:
        if missing.name != "benchmark":
            raise
        # The benchmark is a tool beside the services, not part of them: the image leaves it out.
        raise OperatorError("bench runs from a checkout (make install), not from the service image") from None

    options = BenchOptions.choose(messages=args.messages, smoke=args.smoke, replicas=args.replicas)
    try:
        result = run_benchmark(options, progress=lambda line: print(f"bench: {line}", file=sys.stderr, flush=True))
    except BenchmarkFailed as failure:
        print(f"needs-router bench: {failure}", file=sys.stderr)
        return 1
    print(format_table(result))
    print(json.dumps(result.as_json()), flush=True)
    if (invalid := result.invalidity()) is not None:
        print(f"needs-router bench: {invalid}", file=sys.stderr)
        return 1
    return 0


def _bench_source_intake(args: argparse.Namespace) -> int:
    try:
        from benchmark.source_intake import run_source_intake_benchmark
    except ModuleNotFoundError as missing:
        if missing.name != "benchmark":
            raise
        raise OperatorError("bench runs from a checkout (make install), not from the service image") from None
    figures = run_source_intake_benchmark(per_turn=args.messages or 2000, turns=2 if args.smoke else 4)
    for name, value in figures.items():
        print(f"source intake: {name}: {value:,.2f}")
    return 0


def _bench_related_needs(args: argparse.Namespace) -> int:
    try:
        from benchmark.related_needs import run_related_needs_benchmark
    except ModuleNotFoundError as missing:
        if missing.name != "benchmark":
            raise
        raise OperatorError("bench runs from a checkout (make install), not from the service image") from None
    figures = run_related_needs_benchmark(needs_per_turn=args.messages or 1500, turns=3 if not args.smoke else 1)
    for workload, measured in figures.items():
        for name, value in measured.items():
            print(f"{workload}: {name}: {value:,.3f}")
    print(json.dumps(figures), flush=True)
    return 0


def _eval_export(args: argparse.Namespace) -> int:
    from services.screening.adapters.corrections import export_corrections

    database_url = reachable_infrastructure(kafka=False, database=True).database_url
    lines, unlabelled = asyncio.run(export_corrections(database_url))
    exported = "".join(f"{line}\n" for line in lines)
    if args.out:
        write_text(Path(args.out), exported)
    else:
        sys.stdout.write(exported)
    where = args.out or "standard output"
    print(f"wrote {len(lines)} corrected examples to {where}; {unlabelled} had no labels to infer", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="needs-router", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {importlib.metadata.version('needs-router')}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole pipeline on this machine")
    up.add_argument("--port", type=int, default=8080, help="intake's HTTP port (default 8080)")
    up.add_argument("--replicas", type=int, default=1, help="processes of screening and of routing")
    up.add_argument("--inbox-port", type=int, default=8090, help="the officers' inbox's HTTP port (default 8090)")
    up.set_defaults(run=_up)

    serve = commands.add_parser("serve", help="run one service, configured from the environment")
    serve.add_argument("service", choices=["intake", "screening", "routing", "inbox"])
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("create-topics", help="create every topic").set_defaults(run=_create_topics)

    routes = commands.add_parser("routes", help="show or change the routing table")
    route_commands = routes.add_subparsers(dest="routes_command", required=True)
    route_commands.add_parser("list", help="print the routing table: type, agency or office, and a place rule's place")
    route_set = route_commands.add_parser(
        "set", help="send a need type (everywhere, in a province or in a district) to an agency or one office"
    )
    route_set.add_argument("key", help="a need type, or manual_screening")
    route_set.add_argument(
        "agency",
        metavar="AGENCY_OR_OFFICE",
        help=f"an agency ({', '.join(_AGENCIES)}) or an office of the place, e.g. doe.10.area3",
    )
    route_unset = route_commands.add_parser(
        "unset", help="remove a need type's rule for a province or district (the less specific rule applies)"
    )
    route_unset.add_argument("key", help="a need type, or manual_screening")
    for command in (route_set, route_unset):
        place = command.add_mutually_exclusive_group(required=command is route_unset)
        place.add_argument("--province", help="only in this province (two-digit code)")
        place.add_argument("--district", help="only in this district (four-digit code, e.g. 1026)")
    routes.set_defaults(run=_routes)

    dlq = commands.add_parser("dlq", help="inspect and re-drive dead letters")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_commands.add_parser("list", help="print dead letters as JSON lines, newest first")
    dlq_list.add_argument("--limit", type=int, default=50)
    dlq_list.add_argument("--all", action="store_true", help="include dead letters already replayed")
    dlq_replay = dlq_commands.add_parser("replay", help="send dead letters back to their source topics")
    dlq_replay.add_argument(
        "--id", type=uuid.UUID, action="append", help="a dead letter id (default: all not replayed)"
    )
    dlq.set_defaults(run=_dlq)

    keys = commands.add_parser("keys", help="API keys for volunteer apps, agencies and admins")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    key_create = key_commands.add_parser("create", help="create a key; its last output line is API_KEY=<key>")
    key_create.add_argument("--role", required=True, choices=["volunteer_app", "agency", "admin"])
    key_create.add_argument("--agency", choices=_AGENCIES, help="for agency keys")
    key_create.add_argument(
        "--province", action="append", help="a province code the agency key serves, with its area offices; repeat"
    )
    key_create.add_argument(
        "--office", action="append", help="an area office the agency key serves only, e.g. doe.10.area3; repeat"
    )
    key_create.add_argument("--owner", help="the app or office the key belongs to (default: the key id)")
    key_create.add_argument("--valid-days", type=float, default=365.0, help="days until it expires (default 365)")
    key_revoke = key_commands.add_parser("revoke", help="revoke a key by its id (or the whole key)")
    key_revoke.add_argument("key_id")
    key_commands.add_parser("personal-data-key", help="print a new PERSONAL_DATA_KEY")
    rotate = key_commands.add_parser(
        "rotate-personal-data", help="re-seal every national ID under the first key of PERSONAL_DATA_KEY"
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="national IDs per transaction (default 500)")
    rotate.set_defaults(run=_rotate_personal_data)
    retire = key_commands.add_parser("retire-personal-data-key", help="retire a key nothing is sealed under any more")
    retire.add_argument("key_id")
    retire.set_defaults(run=_retire_personal_data_key)
    keys.set_defaults(run=_keys)

    backup = commands.add_parser("backup", help="write a consistent pg_dump archive of the database to PATH")
    backup.add_argument("path")
    backup.set_defaults(run=_backup_or_restore)
    restore = commands.add_parser("restore", help="restore a backup into an EMPTY database (DATABASE_URL)")
    restore.add_argument("path")
    restore.set_defaults(run=_backup_or_restore)

    sources = commands.add_parser("sources", help="upstream systems that post needs on Kafka topics of their own")
    source_commands = sources.add_subparsers(dest="sources_command", required=True)
    source_add = source_commands.add_parser(
        "add",
        help="create needs.incoming.v1.NAME and needs.receipts.v1.NAME, record the source and, on a broker with"
        " SASL, create its user source-NAME (password from SOURCE_PASSWORD) and its ACLs",
    )
    source_add.add_argument("name", help="1 to 64 of a-z 0-9 - _ (e.g. hr-system)")
    source_commands.add_parser("list", help="print the recorded sources")
    sources.set_defaults(run=_sources)

    audit = commands.add_parser("audit", help="who read, changed, revealed or erased a need, and when")
    audit.add_argument("--need", type=uuid.UUID, required=True, help="the need id")
    audit.set_defaults(run=_audit)

    agency = commands.add_parser("agency", help="the reference agency consumer")
    agency_commands = agency.add_subparsers(dest="agency_command", required=True)
    agency_listen = agency_commands.add_parser("listen", help="print an agency's cases in Thai as they arrive")
    agency_listen.add_argument("--agency", required=True, choices=_AGENCIES)
    agency_listen.add_argument(
        "--province", help="one province code: its queue and its area offices' (Bangkok: 10); default: every province"
    )
    agency_listen.add_argument(
        "--office", help="one area office only, e.g. area3 with --province 10 (or its whole name, doe.10.area3)"
    )
    agency_listen.add_argument("--accept", action="store_true", help="report each new case as accepted")
    agency.set_defaults(run=_agency)

    schemas = commands.add_parser("schemas", help="write the contracts' JSON Schemas and AsyncAPI")
    schemas.add_argument("--out", default=str(Path(__file__).parent.parent / "shared/contracts/schemas"))
    schemas.add_argument("--check", action="store_true", help="fail if the files are out of date")
    schemas.set_defaults(run=_schemas)

    bench = commands.add_parser("bench", help="measure throughput, latency and memory (starts its own infra)")
    bench.add_argument("--messages", type=int, help="needs per throughput phase (default 20,000; smoke 300)")
    bench.add_argument("--smoke", action="store_true", help="tiny and quick: every number, none meaningful")
    bench.add_argument("--replicas", type=int, choices=[1, 2], help="also time 2 replicas (default: 2, smoke: 1)")
    bench.add_argument(
        "--related-needs", action="store_true",
        help="only routing, with the related-needs lookup off and on in turns: needs/s of each and their ratio"
        " (--messages: needs per turn, default 1,500; 6 turns each way, smoke 2; two workloads)",
    )  # fmt: skip
    bench.add_argument(
        "--source-intake", action="store_true",
        help="only intake's source consumer, one transaction per record and per batch in turns: submissions/s"
        " of each and their ratio (--messages: submissions per turn, default 2,000; 4 turns each way, smoke 2)",
    )  # fmt: skip
    bench.set_defaults(run=_bench)

    evaluation = commands.add_parser("eval", help="score the classifier on labelled JSONL")
    evaluation.add_argument("path")
    evaluation.add_argument("--model", help="a model file to score (default: the model shipped in the package)")
    evaluation.add_argument("--by-source", action="store_true", help="also print the figures per source site")
    evaluation.set_defaults(run=_eval)

    from services.routing.domain.related_needs import MATCH_THRESHOLD
    from services.routing.domain.related_pairs import PAIRS

    related_pairs = commands.add_parser(
        "related-pairs", help="precision and recall of the related-needs matching on labelled pairs of real text"
    )
    related_pairs.add_argument("path", nargs="?", default=str(PAIRS))
    related_pairs.add_argument("--threshold", type=float, default=MATCH_THRESHOLD, help="default: the one in use")
    related_pairs.set_defaults(run=_related_pairs)

    training = commands.add_parser(
        "train",
        help="train a candidate model on the shipped training sets plus confirmed corrections (needs the training"
        " extra); registered as a candidate when DATABASE_URL is set; prints its version",
    )
    training.add_argument("--out", help="also write the model file here (without a database: screening-model-<v>.json)")
    training.add_argument(
        "--corrections", action="append", default=[], metavar="FILE.jsonl", help="confirmed corrections to learn from"
    )
    training.set_defaults(run=_train)

    export_help = (
        "confirmed corrections only, as labelled JSONL for `eval` and `train`"
        ' (unchanged format: {"text", "labels"} per line); candidates and rejected ones are left out'
    )
    export = commands.add_parser("eval-export", help=export_help, description=export_help)
    export.add_argument("--out", help="a file to write (default: standard output)")
    export.set_defaults(run=_eval_export)
    from services.inbox.entrypoints.commands import add_officer_commands
    from services.screening.entrypoints.commands import add_learning_loop_commands

    add_learning_loop_commands(commands)
    add_officer_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needs-router`` command."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (MissingInfrastructure, OperatorError) as problem:
        # One line, whatever a server's own message holds: scripts and log readers take it whole.
        print(f"needs-router: {' '.join(str(problem).splitlines())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
