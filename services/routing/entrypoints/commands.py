"""Operators' changes to the routing table, applied without a release."""

import asyncpg

from services.routing.adapters import database as repository
from services.routing.domain.routing_table import (
    IncompleteRoutingTable,
    InvalidRoutingRule,
    RoutingRule,
    RoutingTable,
    check_rule,
    rule_at,
)


async def set_route(
    database_url: str, *, key: str, agency: str, province_code: str | None = None, district_code: str | None = None
) -> RoutingRule:
    """Send a need type (or manual screening) at a place to an agency or one office, if the table stays valid.

    ``agency`` is an agency code or an office (``doe.10``, ``doe.10.area3``) of the rule's
    province. Everywhere when neither ``province_code`` nor ``district_code`` is given. Raises
    InvalidRoutingRule or IncompleteRoutingTable, naming the problem, and changes nothing.
    """
    rule = rule_at(key, agency, province_code=province_code, district_code=district_code)
    check_rule(rule)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            # Read under lock in the writing transaction: the check sees the table the change lands on.
            rules = await repository.read_rules(connection, lock=True)
            RoutingTable.complete([*(other for other in rules if other.slot != rule.slot), rule])
            await repository.set_rule(connection, rule)
    finally:
        await connection.close()
    return rule


async def unset_route(
    database_url: str, *, key: str, province_code: str | None = None, district_code: str | None = None
) -> None:
    """Remove the rule of a need type at a province or district, so the next less specific rule applies.

    The rule that applies everywhere cannot be removed (IncompleteRoutingTable): set it instead.
    """
    rule = rule_at(key, "", province_code=province_code, district_code=district_code)
    if rule.rank == 0:
        raise IncompleteRoutingTable(f"the rule of {key} everywhere cannot be removed, only changed (routes set)")
    connection = await asyncpg.connect(database_url)
    try:
        if not await repository.delete_rule(connection, rule):
            raise InvalidRoutingRule(f"there is no rule for {key} {rule.place}")
    finally:
        await connection.close()


async def list_routes(database_url: str) -> list[RoutingRule]:
    """The routing table, rules as stored, everywhere first."""
    connection = await asyncpg.connect(database_url)
    try:
        return await repository.read_rules(connection)
    finally:
        await connection.close()
