"""The dashboard's names of need types, agencies and case states, written from the one vocabulary."""

import json
from functools import cache

from services.intake.use_cases.dashboard_figures import MANUAL
from shared.contracts.need_types import LANGUAGES, MANUAL_SCREENING_LABEL, Agency, CaseState, NeedType, OverdueKind


@cache
def vocabulary_module() -> str:
    """An ES module exporting TYPES, AGENCIES and STATUSES (``{language: {code: label}}``) and CASE_STATES in order."""
    tables: dict[str, object] = {
        "CASE_STATES": [state.value for state in CaseState],
        "TYPES": {
            language: {**{t.value: getattr(t, language) for t in NeedType}, MANUAL: MANUAL_SCREENING_LABEL[language]}
            for language in LANGUAGES
        },
        "AGENCIES": {language: {a.value: getattr(a, language) for a in Agency} for language in LANGUAGES},
        "STATUSES": {
            language: {s.value: getattr(s, language) for s in [*CaseState, *OverdueKind]} for language in LANGUAGES
        },
    }
    exports = (f"export const {name} = {json.dumps(table, ensure_ascii=False)};" for name, table in tables.items())
    return "// Written by the server from shared/contracts/need_types.py; do not copy these labels.\n" + "\n".join(
        exports
    )
