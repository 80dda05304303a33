import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.cloud_events import Source
from shared.contracts.events import DeadLetter, NeedSubmitted
from shared.raw_records import dead_letter_messages, parse_records
from shared.topics import NEEDS_DEAD_LETTERS
from tests.unit.factories import submitted


@dataclass(frozen=True)
class Record:
    value: bytes | None
    topic: str = "needs.submitted.v1"
    partition: int = 3
    offset: int = 41
    key: bytes | None = b"key"
    headers: tuple[tuple[str, bytes], ...] = ()


def test_valid_events_pass_and_repeats_within_a_batch_are_dropped() -> None:
    need = submitted()
    raw = need.model_dump_json().encode()
    batch = parse_records([Record(raw), Record(raw, offset=42)], NeedSubmitted, consumer="screening")
    assert batch.events == [need]
    assert batch.dead_letters == []


def test_each_kind_of_poison_becomes_a_dead_letter_with_its_reason() -> None:
    wrong_version = json.loads(submitted().model_dump_json()) | {"schema_version": 2}
    missing_field = json.loads(submitted().model_dump_json())
    del missing_field["description"]
    poison = {
        b"": "empty message",
        b"\xff\xfe\x00": "not valid UTF-8",
        b"{not json": "Invalid JSON",
        b"[1, 2]": "message",
        json.dumps(wrong_version).encode(): "schema_version",
        json.dumps(missing_field).encode(): "description: Field required",
    }
    records = [Record(value, offset=offset) for offset, value in enumerate(poison)]
    batch = parse_records(records, NeedSubmitted, consumer="screening")
    assert batch.events == []
    assert [letter.source_offset for letter in batch.dead_letters] == list(range(len(poison)))
    for letter, (value, reason) in zip(batch.dead_letters, poison.items(), strict=True):
        assert letter.original == value
        assert reason in letter.error
        assert letter.consumer == "screening"


def test_the_same_failure_has_the_same_dead_letter_id() -> None:
    first = parse_records([Record(b"x")], NeedSubmitted, consumer="screening").dead_letters[0]
    again = parse_records([Record(b"x")], NeedSubmitted, consumer="screening").dead_letters[0]
    other = parse_records([Record(b"x")], NeedSubmitted, consumer="routing").dead_letters[0]
    assert first.event_id == again.event_id != other.event_id


def test_dead_letters_round_trip_through_json_with_the_original_bytes() -> None:
    [letter] = parse_records([Record(b"\x00\xffbinary")], NeedSubmitted, consumer="routing").dead_letters
    [message] = dead_letter_messages([letter], source=Source.ROUTING)
    assert message.topic == NEEDS_DEAD_LETTERS
    assert message.key == b"key"
    assert DeadLetter.model_validate_json(message.value).original == b"\x00\xffbinary"


@given(st.binary(max_size=2048))
def test_any_bytes_either_parse_or_become_a_dead_letter(value: bytes) -> None:
    batch = parse_records([Record(value)], NeedSubmitted, consumer="screening")
    assert len(batch.events) + len(batch.dead_letters) == 1


JSON_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(JSON_DOCUMENTS)
def test_any_json_either_parses_or_becomes_a_dead_letter(document: object) -> None:
    batch = parse_records([Record(json.dumps(document).encode())], NeedSubmitted, consumer="screening")
    assert len(batch.events) + len(batch.dead_letters) == 1
