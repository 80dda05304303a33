"""PERSONAL_DATA_KEY: one key, or several while rotating, the first sealing new values."""

import uuid

import pytest

from services.intake.adapters.personal_data import (
    DEFAULT_KEY_ID,
    InvalidPersonalDataKey,
    PersonalDataCipher,
    UnreadablePersonalData,
    generate_key,
)

NEED = uuid.uuid4()


def test_a_lone_key_has_the_default_id() -> None:
    cipher = PersonalDataCipher.from_base64(generate_key())
    sealed = cipher.seal("1101700230705", need_id=NEED)
    assert sealed.key_id == DEFAULT_KEY_ID
    assert cipher.open(sealed.value, key_id=DEFAULT_KEY_ID, need_id=NEED) == "1101700230705"


def test_the_first_of_several_keys_seals_and_every_one_opens_its_own() -> None:
    old, new = generate_key(), generate_key()
    sealed_before = PersonalDataCipher.from_base64(old).seal("1101700230705", need_id=NEED)
    ring = PersonalDataCipher.from_base64(f"2026b:{new}, {DEFAULT_KEY_ID}:{old}")
    assert ring.current_key_id == "2026b"
    assert ring.key_ids == {"2026b", DEFAULT_KEY_ID}
    assert ring.open(sealed_before.value, key_id=DEFAULT_KEY_ID, need_id=NEED) == "1101700230705"
    sealed_now = ring.seal("3101700230700", need_id=NEED)
    assert sealed_now.key_id == "2026b"
    assert ring.open(sealed_now.value, key_id="2026b", need_id=NEED) == "3101700230700"


def test_a_value_under_a_key_not_configured_names_that_key() -> None:
    sealed = PersonalDataCipher.from_base64(f"gone:{generate_key()}").seal("1101700230705", need_id=NEED)
    with pytest.raises(UnreadablePersonalData, match="'gone'"):
        PersonalDataCipher.from_base64(generate_key()).open(sealed.value, key_id="gone", need_id=NEED)


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("", "'default' must be 32 bytes"),
        ("c2hvcnQ=", "'default' must be 32 bytes"),
        ("not base64!", "'default' is not base64"),
        (f"a:{generate_key()},a:{generate_key()}", "'a' is given twice"),
        (f"a b:{generate_key()}", "is not 'id:base64-key'"),
        (f"a:{generate_key()},{generate_key()}", "is not 'id:base64-key'"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_setting_and_the_key(setting: str, problem: str) -> None:
    with pytest.raises(InvalidPersonalDataKey, match="PERSONAL_DATA_KEY") as refused:
        PersonalDataCipher.from_base64(setting)
    assert problem in str(refused.value)
