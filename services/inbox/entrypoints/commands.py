"""``needs-router officers …``: operators create and disable the inbox's officers.

``create``'s last line is ``LOGIN_URL=<url>``: a one-time link, valid 24 hours, for setting the
password; its address starts with ``PUBLIC_BASE_URL``.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime

import asyncpg

from services.inbox.settings import InboxSettings
from shared.contracts.offices import InvalidOfficeName, Office


def add_officer_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``officers create``, ``officers link`` and ``officers disable``."""
    officers = commands.add_parser("officers", help="the officers' inbox: accounts for people")
    officer_commands = officers.add_subparsers(dest="officers_command", required=True)
    create = officer_commands.add_parser(
        "create", help="create an officer; the last line is LOGIN_URL=<one-time link for setting the password, 24 h>"
    )
    create.add_argument("--name", required=True, help="the officer's name, which they log in with")
    create.add_argument("--office", required=True, help="AGENCY.PROVINCE[.OFFICE], as the topics name it: dlpw.33")
    create.add_argument("--screener", action="store_true", help="screens needs by hand (a mol.<province> office)")
    create.add_argument("--head", action="store_true", help="head of office: assigns cases to the office's officers")
    link = officer_commands.add_parser("link", help="a new one-time link for an officer; last line LOGIN_URL=<url>")
    link.add_argument("--name", required=True)
    disable = officer_commands.add_parser("disable", help="disable an officer; their sessions end at once")
    disable.add_argument("--name", required=True)
    officers.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from services.inbox.adapters.officers import OfficerNameTaken, UnknownOfficer
    from services.operator_errors import reachable_infrastructure

    reachable_infrastructure(kafka=False, database=True)  # one line and exit 2 when it does not answer
    settings = InboxSettings()
    commands: dict[str, Callable[[asyncpg.Pool, InboxSettings], Coroutine[None, None, None]]] = {
        "create": lambda pool, settings: _create(args, pool, settings),
        "link": lambda pool, settings: _link(args, pool, settings),
        "disable": lambda pool, _: _disable(args, pool),
    }
    try:
        asyncio.run(_with_pool(settings, commands[args.officers_command]))
    except (InvalidOfficeName, OfficerNameTaken, UnknownOfficer, ValueError) as refused:
        print(f"needs-router: {refused}", file=sys.stderr)
        return 2
    except asyncpg.UndefinedTableError:
        print("needs-router: the inbox's tables are missing: run `needs-router migrate` first", file=sys.stderr)
        return 2
    return 0


async def _with_pool(
    settings: InboxSettings, command: Callable[[asyncpg.Pool, InboxSettings], Coroutine[None, None, None]]
) -> None:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await command(pool, settings)
    finally:
        await pool.close()


async def _create(args: argparse.Namespace, pool: asyncpg.Pool, settings: InboxSettings) -> None:
    from services.inbox.use_cases.accounts import create_officer

    office = Office.parse(args.office)
    officer, url = await create_officer(
        name=args.name, office=office, screener=args.screener, head=args.head, base_url=settings.base_url(),
        now=datetime.now(UTC), pool=pool,
    )  # fmt: skip
    kind = "screener" if officer.screens else "head of office" if officer.head else "officer"
    if args.screener and not officer.screens:
        print(
            f"note: only a provincial labour office (mol.<province>) screens; {office.name} does not", file=sys.stderr
        )
    print(f"officer {officer.officer_id} created: {officer.name}, {kind} of {office.name}")
    print("open this link within 24 hours to set the password (it works once):")
    print(f"LOGIN_URL={url}")


async def _link(args: argparse.Namespace, pool: asyncpg.Pool, settings: InboxSettings) -> None:
    from services.inbox.use_cases.accounts import new_password_link

    url = await new_password_link(name=args.name, base_url=settings.base_url(), now=datetime.now(UTC), pool=pool)
    print(f"LOGIN_URL={url}")


async def _disable(args: argparse.Namespace, pool: asyncpg.Pool) -> None:
    from services.inbox.use_cases.accounts import disable_officer

    officer = await disable_officer(name=args.name, now=datetime.now(UTC), pool=pool)
    print(f"officer {officer.name} of {officer.office.name} disabled; their sessions have ended")
