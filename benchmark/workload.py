"""The needs a benchmark sends: valid contracts and request bodies, varied like real ones."""

import random
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import geothai

from benchmark.descriptions import CLOSINGS, OPENINGS, SLOT_RANGES, TEMPLATES
from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from shared.contracts.events import NeedSubmitted
from shared.contracts.need_types import NeedType

_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
# How often a volunteer ticks the type they think it is (the classifier weighs it, never obeys it).
_SUGGESTS_TYPE = 0.25
_NEED_TYPES = frozenset(need_type.value for need_type in NeedType)
_NAMES = ("สมชาย ใจดี", "สมหญิง ใจงาม", "บุญมี ศรีสุข", "มาลี ทองดี", "Aung Min", "สุดา แก้วมณี")
# An event id derived from the need id, as intake does, so redeliveries keep their identity.


@dataclass(frozen=True, slots=True)
class Place:
    """A real subdistrict with the district and province it belongs to."""

    subdistrict_code: str
    district_code: str
    province_code: str


@dataclass(frozen=True, slots=True)
class Record:
    """One serialised record: Kafka key and value."""

    key: bytes
    value: bytes


def sample_places(rng: random.Random, *, provinces: Collection[str] | None, per_province: int = 2) -> list[Place]:
    """A few real subdistricts in each province (default: all 77, so needs reach every agency topic)."""
    places = []
    for province in geothai.provinces():
        if provinces is not None and province.code not in provinces:
            continue
        for district in rng.sample(geothai.districts(province.code), k=per_province):
            subdistrict = rng.choice(geothai.subdistricts(district.code))
            places.append(Place(subdistrict.code, district.code, province.code))
    return places


def valid_national_id(rng: random.Random) -> str:
    """Thirteen digits whose last one is the correct check digit."""
    first_twelve = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    total = sum(int(digit) * weight for digit, weight in zip(first_twelve, range(13, 1, -1), strict=True))
    return first_twelve + str((11 - total % 11) % 10)


class Workload:
    """Generates needs; the same seed gives the same texts and places (need ids are always new)."""

    def __init__(self, seed: int = 7255, *, provinces: Collection[str] | None = None) -> None:
        self._rng = random.Random(seed)
        self._places = sample_places(self._rng, provinces=provinces)

    def description(self) -> tuple[str, tuple[NeedType, ...]]:
        """One description (a template, slots filled, sometimes in Thai digits) and the volunteer's suggestion."""
        about, template = self._rng.choice(TEMPLATES)
        slots = {name: self._rng.randint(low, high) for name, (low, high) in SLOT_RANGES.items()}
        text = self._rng.choice(OPENINGS) + template.format(**slots) + self._rng.choice(CLOSINGS)
        if self._rng.random() < 0.2:
            text = text.translate(_THAI_DIGITS)
        suggests = about in _NEED_TYPES and self._rng.random() < _SUGGESTS_TYPE
        return text, (NeedType(about),) if suggests else ()

    def descriptions(self, count: int) -> list[str]:
        """``count`` descriptions."""
        return [self.description()[0] for _ in range(count)]

    def needs(self, count: int) -> list[NeedSubmitted]:
        """``count`` needs as intake would publish them, each with a new need id."""
        now = datetime.now(UTC)
        return [self._need(now) for _ in range(count)]

    def submissions(self, count: int) -> list[dict[str, object]]:
        """``count`` bodies for ``POST /v1/needs``."""
        return [self._submission() for _ in range(count)]

    def _need(self, now: datetime) -> NeedSubmitted:
        """The event intake would publish for one of this workload's submissions."""
        submission = NeedSubmission.model_validate(self._submission())
        return accept(submission, location=locate(submission.subdistrict_code), need_id=uuid.uuid4(), now=now)

    def _submission(self) -> dict[str, object]:
        place = self._rng.choice(self._places)
        description, suggested = self.description()
        body: dict[str, object] = {
            "volunteer_id": self._volunteer(place),
            "subdistrict_code": place.subdistrict_code,
            "description": description,
            "suggested_types": [str(need_type) for need_type in suggested],
        }
        if self._rng.random() < 0.6:
            body["person"] = {
                "name": self._rng.choice(_NAMES),
                "national_id": valid_national_id(self._rng),
                "phone": self._phone(),
            }
            body["consent_to_share"] = self._rng.random() < 0.8
        return body

    def _phone(self) -> str:
        return "08" + "".join(str(self._rng.randint(0, 9)) for _ in range(8))

    def _volunteer(self, place: Place) -> str:
        return f"vol-{place.province_code}-{self._rng.randint(1, 99):04d}"


def as_records(needs: list[NeedSubmitted]) -> list[Record]:
    """Needs serialised as intake's outbox relay publishes them (key = need id).

    They never went through intake, so intake's tables have no row for them: routing finds no
    contact to add, as for a need whose person gave none.
    """
    return [Record(key=str(need.need_id).encode(), value=need.model_dump_json().encode()) for need in needs]


def need_ids(needs: list[NeedSubmitted]) -> Iterator[str]:
    """The need ids, as the keys of the records on the agency topics spell them."""
    return (str(need.need_id) for need in needs)
