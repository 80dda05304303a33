"""``needs-router``: run the pipeline, one service, or an operator's task."""

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg

from shared.settings import InfrastructureSettings, MissingInfrastructure


def _serve(args: argparse.Namespace) -> int:
    if args.service == "intake":
        from services.intake.app import serve
    elif args.service == "screening":
        from services.screening.app import serve
    else:
        from services.routing.app import serve
    serve()
    return 0


def _up(args: argparse.Namespace) -> int:
    from services.supervisor import up

    return up(port=args.port, replicas=args.replicas)


def _migrate(_: argparse.Namespace) -> int:
    from shared.database import migrate

    applied = asyncio.run(migrate(InfrastructureSettings().require(kafka=False).database_url))
    print(f"applied: {', '.join(applied) or 'nothing (up to date)'}")
    return 0


def _create_topics(_: argparse.Namespace) -> int:
    from shared.kafka import all_topics, create_topics

    settings = InfrastructureSettings().require(database=False)
    created = asyncio.run(create_topics(settings, all_topics(settings)))
    print(f"created {created} topics")
    return 0


def _routes(args: argparse.Namespace) -> int:
    from services.routing.admin import UnknownRouteKey, list_routes, set_route

    database_url = InfrastructureSettings().require(kafka=False).database_url
    if args.routes_command == "set":
        try:
            asyncio.run(set_route(database_url, key=args.key, agency=args.agency))
        except UnknownRouteKey as unknown:
            print(f"needs-router: {unknown}", file=sys.stderr)
            return 2
    for key, agency in asyncio.run(list_routes(database_url)):
        print(f"{key:<18} {agency}")
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from shared.dead_letter_replay import replay_dead_letters
    from shared.dead_letter_store import StoredDeadLetter, list_dead_letters

    settings = InfrastructureSettings().require(kafka=args.dlq_command == "replay")
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
    from services.intake.access.admin import create_api_key, revoke_api_key
    from services.intake.access.api_keys import InvalidKeyScope, split_token
    from services.intake.personal_data import generate_key

    if args.keys_command == "personal-data-key":
        print(f"PERSONAL_DATA_KEY={generate_key()}")
        return 0
    database_url = InfrastructureSettings().require(kafka=False).database_url
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
                provinces=args.province or [], valid_days=args.valid_days,
            )
        )  # fmt: skip
    except InvalidKeyScope as invalid:
        print(f"needs-router: {invalid}", file=sys.stderr)
        return 2
    print(f"KEY_ID={key.key_id}")
    print("# shown once: only its hash is stored")
    print(f"API_KEY={key.token}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from services.intake.access.admin import audit_trail

    database_url = InfrastructureSettings().require(kafka=False).database_url
    for entry in asyncio.run(audit_trail(database_url, args.need)):
        print(json.dumps(entry, ensure_ascii=False))
    return 0


def _agency(args: argparse.Namespace) -> int:
    from services.agency_client.listener import listen
    from shared.contracts.need_types import Agency

    settings = InfrastructureSettings().require(database=False)
    listen(agency=Agency(args.agency), province=args.province, accept=args.accept, settings=settings)
    return 0


def _schemas(args: argparse.Namespace) -> int:
    from shared.contracts.export import export_schemas

    stale = export_schemas(Path(args.out), check=args.check)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `needs-router schemas`", file=sys.stderr)
        return 1
    return 0


def _eval(args: argparse.Namespace) -> int:
    from services.screening.domain.classifier import Classifier
    from services.screening.evaluation import evaluate, format_table, load_labelled_jsonl

    result = evaluate(Classifier.load(), load_labelled_jsonl(Path(args.path)))
    print(format_table(result))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from services.benchmark.errors import BenchmarkFailed
    from services.benchmark.report import format_table
    from services.benchmark.run import BenchOptions, run_benchmark

    options = BenchOptions.choose(messages=args.messages, smoke=args.smoke, replicas=args.replicas)
    try:
        result = run_benchmark(options, progress=lambda line: print(f"bench: {line}", file=sys.stderr, flush=True))
    except BenchmarkFailed as failure:
        print(f"needs-router bench: {failure}", file=sys.stderr)
        return 1
    print(format_table(result))
    print(json.dumps(result.as_json()), flush=True)
    return 0


def _eval_export(args: argparse.Namespace) -> int:
    from services.screening.corrections import export_corrections

    lines, unlabelled = asyncio.run(export_corrections(InfrastructureSettings().require(kafka=False).database_url))
    exported = "".join(f"{line}\n" for line in lines)
    if args.out:
        Path(args.out).write_text(exported, encoding="utf-8")
    else:
        sys.stdout.write(exported)
    where = args.out or "standard output"
    print(f"wrote {len(lines)} corrected examples to {where}; {unlabelled} had no labels to infer", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="needs-router", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole pipeline on this machine")
    up.add_argument("--port", type=int, default=8080, help="intake's HTTP port (default 8080)")
    up.add_argument("--replicas", type=int, default=1, help="processes of screening and of routing")
    up.set_defaults(run=_up)

    serve = commands.add_parser("serve", help="run one service, configured from the environment")
    serve.add_argument("service", choices=["intake", "screening", "routing"])
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("create-topics", help="create every topic").set_defaults(run=_create_topics)

    routes = commands.add_parser("routes", help="show or change the routing table")
    route_commands = routes.add_subparsers(dest="routes_command", required=True)
    route_commands.add_parser("list", help="print the routing table")
    route_set = route_commands.add_parser("set", help="send a need type to another agency")
    route_set.add_argument("key", help="a need type, or manual_screening")
    route_set.add_argument("agency", help="doe, dsd, sso, dlpw or mol")
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
    key_create.add_argument("--agency", choices=["doe", "dsd", "sso", "dlpw", "mol"], help="for agency keys")
    key_create.add_argument("--province", action="append", help="a province code the agency key serves; repeat")
    key_create.add_argument("--owner", help="the app or office the key belongs to (default: the key id)")
    key_create.add_argument("--valid-days", type=float, default=365.0, help="days until it expires (default 365)")
    key_revoke = key_commands.add_parser("revoke", help="revoke a key by its id (or the whole key)")
    key_revoke.add_argument("key_id")
    key_commands.add_parser("personal-data-key", help="print a new PERSONAL_DATA_KEY")
    keys.set_defaults(run=_keys)

    audit = commands.add_parser("audit", help="who read, changed, revealed or erased a need, and when")
    audit.add_argument("--need", type=uuid.UUID, required=True, help="the need id")
    audit.set_defaults(run=_audit)

    agency = commands.add_parser("agency", help="the reference agency consumer")
    agency_commands = agency.add_subparsers(dest="agency_command", required=True)
    agency_listen = agency_commands.add_parser("listen", help="print an agency's cases in Thai as they arrive")
    agency_listen.add_argument("--agency", required=True, choices=["doe", "dsd", "sso", "dlpw", "mol"])
    agency_listen.add_argument("--province", help="one province code; default: every province (agency.CODE.*)")
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
    bench.set_defaults(run=_bench)

    evaluation = commands.add_parser("eval", help="score the classifier on labelled JSONL")
    evaluation.add_argument("path")
    evaluation.set_defaults(run=_eval)

    export = commands.add_parser("eval-export", help="people's corrections as labelled JSONL for `eval`")
    export.add_argument("--out", help="a file to write (default: standard output)")
    export.set_defaults(run=_eval_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needs-router`` command."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except MissingInfrastructure as missing:
        print(f"needs-router: {missing}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
