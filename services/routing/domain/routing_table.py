"""The routing table: which office handles a need type at a place, plus where manual screening goes.

A rule matches a need type (or ``manual_screening``) everywhere, in one province, or in one
district; the most specific rule that matches a need's place wins. A rule names an agency (its
office is the one covering the need's district: an area office where the agency has them,
otherwise the province's) or one office outright (``doe.10`` or ``doe.10.area3``).
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geothai

from shared.contracts.area_offices import AreaOffices, area_offices
from shared.contracts.need_types import MANUAL_SCREENING_AGENCY, Agency, NeedType
from shared.contracts.offices import InvalidOfficeName, Office

MANUAL_SCREENING = "manual_screening"


Slot = tuple[str, str | None, str | None]  # need type (or manual_screening), province, district


class IncompleteRoutingTable(ValueError):
    """The table leaves a need type, or manual screening, without a known agency somewhere."""


class InvalidRoutingRule(ValueError):
    """A rule for an unknown type, place or office, or two rules of equal rank for the same place."""


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One row of the table: a need type (or ``manual_screening``), where it applies, and where it goes."""

    key: str
    target: str
    province_code: str | None = None
    district_code: str | None = None

    @property
    def rank(self) -> int:
        """0 everywhere, 1 in a province, 2 in a district: the higher rank wins."""
        return (self.province_code is not None) + (self.district_code is not None)

    @property
    def slot(self) -> Slot:
        """Type and place: a table holds one rule per slot."""
        return self.key, self.province_code, self.district_code

    @property
    def place(self) -> str:
        """Where the rule applies, in words."""
        if self.district_code is not None:
            return f"district {self.district_code}"
        return f"province {self.province_code}" if self.province_code is not None else "everywhere"


def rule_at(key: str, target: str, *, province_code: str | None, district_code: str | None) -> RoutingRule:
    """A rule for a place given by a district (its province follows from its code) or a province, or neither.

    Refuses (InvalidRoutingRule) a code that is not an official district or province of Thailand.
    """
    if district_code is not None:
        if geothai.district(district_code) is None:
            raise InvalidRoutingRule(f"district {district_code!r} is not a district code of Thailand (e.g. 1026)")
        if province_code not in (None, district_code[:2]):
            raise InvalidRoutingRule(f"district {district_code} is not in province {province_code}")
        province_code = district_code[:2]
    if province_code is not None and geothai.province(province_code) is None:
        raise InvalidRoutingRule(f"province {province_code!r} is not a province code of Thailand (e.g. 10)")
    return RoutingRule(key, target, province_code, district_code)


@dataclass(frozen=True, slots=True)
class _Target:
    agency: Agency
    office: Office | None  # None: the agency's office covering the need's district


def check_rule(rule: RoutingRule, areas: AreaOffices | None = None) -> None:
    """Refuse a rule for an unknown type, or naming no known agency or office of its place."""
    _target(rule, areas or area_offices())


def _target(rule: RoutingRule, areas: AreaOffices) -> _Target:
    """Where a rule sends needs, or InvalidRoutingRule naming what is wrong with it."""
    if rule.key not in {*NeedType, MANUAL_SCREENING}:
        raise InvalidRoutingRule(f"{rule.key!r} is not a need type ({', '.join(NeedType)}) or {MANUAL_SCREENING}")
    if "." not in rule.target:
        if rule.target not in set(Agency):
            raise InvalidRoutingRule(f"{rule.target!r} is not an agency ({', '.join(Agency)}) or an office")
        return _Target(Agency(rule.target), None)
    try:
        office = areas.known(Office.parse(rule.target))
    except InvalidOfficeName as invalid:
        raise InvalidRoutingRule(str(invalid)) from None
    if office.province_code != rule.province_code:
        raise InvalidRoutingRule(
            f"office {office.name} is in province {office.province_code}: a rule {rule.place} cannot name it"
        )
    return _Target(office.agency, office)


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Rules by type and place; a type with no usable rule at a place goes to manual screening there.

    ``by_type`` holds the rules that apply everywhere (rank 0).
    """

    by_type: Mapping[NeedType, Agency]
    manual_screening: Agency
    _rules: Mapping[Slot, _Target] = field(default_factory=dict)
    _areas: AreaOffices = field(default_factory=area_offices)

    @classmethod
    def from_rules(cls, rules: Iterable[RoutingRule], areas: AreaOffices | None = None) -> "RoutingTable":
        """Build from stored rules, leaving out the ones that name no known agency or office.

        Rules with a gap are still a table: a broken rule must send needs to a person, not stop
        routing for every need.
        """
        areas = areas or area_offices()
        usable: dict[Slot, _Target] = {}
        for rule in rules:
            try:
                usable[rule.slot] = _target(rule, areas)
            except InvalidRoutingRule:
                continue
        everywhere = {key: target.agency for (key, province, _), target in usable.items() if province is None}
        return cls(
            by_type={need_type: everywhere[need_type] for need_type in NeedType if need_type in everywhere},
            manual_screening=everywhere.get(MANUAL_SCREENING, MANUAL_SCREENING_AGENCY),
            _rules=usable,
            _areas=areas,
        )

    @classmethod
    def from_rows(cls, rows: Mapping[str, str]) -> "RoutingTable":
        """Build from rules that apply everywhere: need type (or ``manual_screening``) -> agency code."""
        return cls.from_rules(RoutingRule(key, agency) for key, agency in rows.items())

    @classmethod
    def complete(
        cls, rules: Mapping[str, str] | Iterable[RoutingRule], areas: AreaOffices | None = None
    ) -> "RoutingTable":
        """Build from rules that route every need type everywhere, or refuse them naming the problem.

        Refused: a rule naming no known type, agency or office (InvalidRoutingRule), two rules for
        the same type and place (InvalidRoutingRule: equal rank, so neither would win), and a type
        (or ``manual_screening``) with no rule that applies everywhere (IncompleteRoutingTable).
        """
        listed = (
            [RoutingRule(key, agency) for key, agency in rules.items()] if isinstance(rules, Mapping) else list(rules)
        )
        areas = areas or area_offices()
        overlapping = [key for key, count in Counter(rule.slot for rule in listed).items() if count > 1]
        if overlapping:
            key, province, district = overlapping[0]
            where = RoutingRule(key, "", province, district).place
            raise InvalidRoutingRule(f"two rules of equal rank for {key} {where}: neither would win")
        everywhere: dict[str, str] = {}
        for rule in listed:
            if rule.rank == 0:
                everywhere[rule.key] = rule.target
            else:
                _target(rule, areas)
        missing = unroutable(everywhere)
        if missing:
            raise IncompleteRoutingTable(f"no known agency for: {', '.join(missing)}")
        return cls.from_rules(listed, areas)

    def office_for(self, key: str, province_code: str, district_code: str) -> Office | None:
        """The office of the most specific usable rule for ``key`` at this place; None if no rule routes it."""
        for slot in ((key, province_code, district_code), (key, province_code, None), (key, None, None)):
            target = self._rules.get(slot)
            if target is not None:
                return target.office or self._areas.office_for(target.agency, province_code, district_code)
        return None

    def manual_screening_office(self, province_code: str, district_code: str) -> Office:
        """Where needs no rule routes, or that screening was unsure of, are screened by hand."""
        return self.office_for(MANUAL_SCREENING, province_code, district_code) or self._areas.office_for(
            self.manual_screening, province_code, district_code
        )

    def agency_office(self, agency: Agency, province_code: str, district_code: str) -> Office:
        """The agency's office covering a place (an area office where the agency has them)."""
        return self._areas.office_for(agency, province_code, district_code)

    def agency_for(self, need_type: NeedType) -> Agency:
        """The agency the rule that applies everywhere names, or manual screening when none does."""
        return self.by_type.get(need_type, self.manual_screening)


def unroutable(rows: Mapping[str, str]) -> list[str]:
    """The need types (and ``manual_screening``) that ``rows`` leave without a known agency."""
    agencies = {agency.value for agency in Agency}
    return [key for key in [*NeedType, MANUAL_SCREENING] if rows.get(key) not in agencies]
