from services.screening.domain.corrections import Correction, labels_for
from shared.contracts.need_types import Agency, NeedType

TYPES_BY_AGENCY = {
    Agency.DOE: [NeedType.JOBS, NeedType.MIGRANT_LABOUR],
    Agency.DSD: [NeedType.SKILLS],
    Agency.DLPW: [NeedType.UNFAIR_LABOUR],
}


def correction(agency: str, *stated: str) -> Correction:
    return Correction("ข้อความ", ("unfair_labour",), agency, stated)


def test_the_types_an_agency_states_are_the_labels() -> None:
    assert labels_for(correction("doe", "migrant_labour", "jobs"), TYPES_BY_AGENCY) == ["jobs", "migrant_labour"]


def test_an_agency_that_handles_one_type_gives_that_type() -> None:
    assert labels_for(correction("dsd"), TYPES_BY_AGENCY) == ["skills"]


def test_no_labels_when_they_cannot_be_told() -> None:
    assert labels_for(correction("doe"), TYPES_BY_AGENCY) is None
    assert labels_for(correction("manual_screening"), TYPES_BY_AGENCY) is None
