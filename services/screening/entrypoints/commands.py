"""``needs-router corrections …`` and ``needs-router models …``: the learning loop's commands.

Heavy imports wait until a command runs, so that building the parser stays quick.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path

import asyncpg

from shared.settings import InfrastructureSettings


def add_learning_loop_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Screeners review corrections; operators register, promote, roll back and shadow models."""
    corrections = commands.add_parser("corrections", help="agencies' corrections, reviewed before they teach")
    correction_commands = corrections.add_subparsers(dest="corrections_command", required=True)
    correction_list = correction_commands.add_parser("list", help="print corrections as JSON lines, oldest first")
    correction_list.add_argument("--state", choices=["candidate", "confirmed", "rejected"])
    for verdict in ("confirm", "reject"):
        review = correction_commands.add_parser(verdict, help=f"{verdict} a correction (only confirmed ones teach)")
        review.add_argument("id", type=int, help="the correction's id, as listed")
        review.add_argument("--by", required=True, help="the screener who decided")
    corrections.set_defaults(run=_run(_corrections))

    models = commands.add_parser("models", help="classifier model versions: register, promote, roll back, shadow")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    model_commands.add_parser("list", help="the live model, then every registered version as JSON lines")
    register = model_commands.add_parser("register", help="register a model file as a candidate; print its version")
    register.add_argument("file", type=Path)
    promote = model_commands.add_parser(
        "promote", help="make a candidate live; refused (exit 2) if any gate figure is lower than the live model's"
    )
    promote.add_argument("version")
    promote.add_argument("--gate", type=Path, help="the frozen gate set (default training/data/real/gate.jsonl)")
    model_commands.add_parser("rollback", help="make the previously live version live again")
    shadow = model_commands.add_parser("shadow", help="run a version beside the live one, routing nothing")
    shadow.add_argument("version", nargs="?")
    shadow.add_argument("--off", action="store_true", help="stop shadow mode")
    shadow_report = model_commands.add_parser("shadow-report", help="needs the shadow model typed otherwise")
    shadow_report.add_argument("--limit", type=int, default=50)
    models.set_defaults(run=_run(_models))


class Refused(Exception):
    """The command cannot do what was asked; the message says why."""


def _run(
    command: Callable[[argparse.Namespace, str], Coroutine[None, None, None]],
) -> Callable[[argparse.Namespace], int]:
    """A command as the CLI runs it: exit 2 with the reason when it is refused."""

    def run(args: argparse.Namespace) -> int:
        from services.screening.adapters.model_registry import RegistryError
        from services.screening.domain.corrections import CorrectionNotFound
        from services.screening.use_cases.model_admin import GateRefused

        database_url = InfrastructureSettings().require(kafka=False).database_url
        try:
            asyncio.run(command(args, database_url))
        except (Refused, CorrectionNotFound, GateRefused, RegistryError, OSError, ValueError) as refused:
            # ValueError: a bad file (model or labelled lines) or argument, with the field it is about.
            print(f"needs-router: {refused}", file=sys.stderr)
            return 2
        return 0

    return run


async def _corrections(args: argparse.Namespace, database_url: str) -> None:
    from services.screening.adapters.corrections import list_corrections, review_correction
    from services.screening.domain.corrections import Review

    connection = await asyncpg.connect(database_url)
    try:
        if args.corrections_command == "list":
            for correction in await list_corrections(connection, review=Review(args.state) if args.state else None):
                print(json.dumps(correction.summary(), ensure_ascii=False))
            return
        verdict = Review.CONFIRMED if args.corrections_command == "confirm" else Review.REJECTED
        await review_correction(connection, args.id, verdict=verdict, by=args.by)
        print(f"correction {args.id} {verdict.value} by {args.by}")
    finally:
        await connection.close()


async def _models(args: argparse.Namespace, database_url: str) -> None:
    from services.screening.use_cases import model_admin

    command = args.models_command
    if command == "register":
        version, new = await model_admin.register_trained(
            database_url, args.file.read_bytes(), {"file": args.file.name}
        )
        print(f"{'registered candidate' if new else 'already registered'} {version}", file=sys.stderr)
        print(version)
    elif command == "promote":
        promotion = await model_admin.promote(database_url, args.version, gate=args.gate)
        print(f"{promotion.version} is live (was {promotion.replaced}); gate macro_f1 "
              f"{promotion.candidate_gate['macro_f1']} (live {promotion.live_gate['macro_f1']})")  # fmt: skip
    elif command == "rollback":
        print(f"{await model_admin.roll_back(database_url)} is live again")
    elif command == "shadow":
        if bool(args.version) == args.off:
            raise Refused("models shadow: give a VERSION or --off")
        await model_admin.shadow(database_url, None if args.off else args.version)
        print(f"shadow model: {args.version or 'none'}")
    elif command == "shadow-report":
        for line in await model_admin.shadow_report(database_url, limit=args.limit):
            print(json.dumps(line.summary(), ensure_ascii=False))
    else:
        models, live = await model_admin.list_models(database_url)
        print(f"live: {live}")
        for model in models:
            print(json.dumps(model.summary(), ensure_ascii=False))
