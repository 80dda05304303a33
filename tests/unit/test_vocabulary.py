"""The one vocabulary is complete, and everything that names its codes derives from it."""

import tomllib
import typing
from pathlib import Path

import pytest

from services.cli import build_parser
from services.intake.entrypoints.dashboard_vocabulary import vocabulary_module
from services.routing.domain.routing_table import MANUAL_SCREENING, RoutingTable
from services.screening.domain.lexicon import DEFAULT_LEXICON_DIR, MAIN_FILE_NAME, load_lexicon
from shared.case_status import Overdue
from shared.contracts.events import CaseEscalated, CaseStatus
from shared.contracts.need_types import (
    LANGUAGES,
    MANUAL_SCREENING_AGENCY,
    Agency,
    CaseState,
    NeedType,
    OverdueKind,
    Term,
    label,
)

REPO = Path(__file__).resolve().parents[2]
TERMS: list[Term] = [*NeedType, *Agency, *CaseState, *OverdueKind]


@pytest.mark.parametrize("term", TERMS, ids=str)
def test_every_code_has_a_thai_and_an_english_label(term: Term) -> None:
    assert term.th.strip()
    assert term.en.strip()
    assert term.th != term.en
    assert [label(term.value, type(term), language) for language in LANGUAGES] == [term.th, term.en]


@pytest.mark.parametrize("need_type", list(NeedType), ids=str)
def test_every_need_type_has_a_lexicon_file_that_the_screening_reads(need_type: NeedType) -> None:
    lexicon_file = DEFAULT_LEXICON_DIR / f"{need_type.value}.toml"
    assert lexicon_file.is_file(), f"no lexicon for {need_type.value}: {lexicon_file}"
    main = tomllib.loads((DEFAULT_LEXICON_DIR / MAIN_FILE_NAME).read_text(encoding="utf-8"))
    assert lexicon_file.name in main["type_files"]


def test_the_loaded_lexicon_has_words_for_every_need_type() -> None:
    lexicon = load_lexicon()
    assert {group.type for group in lexicon.groups if group.type is not None} == set(NeedType)


def test_the_default_routing_table_routes_every_need_type() -> None:
    defaults = {need_type.value: need_type.default_agency.value for need_type in NeedType}
    table = RoutingTable.complete({**defaults, MANUAL_SCREENING: MANUAL_SCREENING_AGENCY.value})
    assert set(table.by_type) == set(NeedType)


def test_the_contracts_case_states_are_the_vocabularys() -> None:
    assert set(typing.get_args(CaseStatus)) == {state.value for state in CaseState} - {CaseState.ROUTED.value}
    overdue_field = CaseEscalated.model_fields["overdue"].annotation
    assert set(typing.get_args(overdue_field)) == set(typing.get_args(Overdue)) == {kind.value for kind in OverdueKind}


def test_the_cli_offers_exactly_the_vocabularys_agencies() -> None:
    parser = build_parser()
    for argv in (["keys", "create", "--role", "agency", "--agency", "nope"], ["agency", "listen", "--agency", "nope"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
    for agency in Agency:
        assert parser.parse_args(["agency", "listen", "--agency", agency.value]).agency == agency.value
        assert parser.parse_args(["routes", "set", "jobs", agency.value]).agency == agency.value


def test_the_dashboard_reads_every_label_from_the_served_vocabulary() -> None:
    module = vocabulary_module()
    for term in TERMS:
        assert f'"{term.value}": "{term.th}"' in module
        assert f'"{term.value}": "{term.en}"' in module
    copied = (REPO / "services/intake/dashboard/static/labels.js").read_text(encoding="utf-8")
    assert not [name for name in ("TYPES", "AGENCIES", "STATUSES") if f"export const {name}" in copied]
    assert not [term.th for term in [*NeedType, *Agency] if term.th in copied]


def test_an_unknown_code_is_labelled_by_itself() -> None:
    assert label("seventh_type", NeedType) == "seventh_type"
    assert label("xyz", Agency, "en") == "xyz"
