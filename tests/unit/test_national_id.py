import pytest

from services.intake.domain.national_id import has_valid_check_digit
from tests.unit.factories import valid_national_id


def test_a_correct_check_digit_is_accepted() -> None:
    assert has_valid_check_digit(valid_national_id())
    assert has_valid_check_digit(valid_national_id("330990001234"))


@pytest.mark.parametrize(
    "candidate",
    ["", "123", "11017002307051", "abcdefghijklm", "๑๑๐๑๗๐๐๒๓๐๗๐๕", "1101700230 70"],
)
def test_malformed_ids_are_refused(candidate: str) -> None:
    assert not has_valid_check_digit(candidate)


def test_every_wrong_check_digit_is_refused() -> None:
    good = valid_national_id()
    wrong = [good[:12] + str(digit) for digit in range(10) if str(digit) != good[12]]
    assert len(wrong) == 9
    assert not any(has_valid_check_digit(candidate) for candidate in wrong)
