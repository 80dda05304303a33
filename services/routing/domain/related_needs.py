"""Related needs: earlier open needs of the same type and province that are probably about the same problem.

A need is compared by the character 4-grams of its description (Thai has no spaces between
words, so words would need a tokeniser, which costs routing more than the rest of the lookup;
4-grams need none), weighted by how rare each 4-gram is in real labour text: the cube of its
inverse document frequency in the real-text corpus (``related_needs_grams.json``, built from
training/data/real/ by ``python -m training.related_pairs grams``). Workplace and place names,
amounts and head counts are rare and decide the score; the words every labour report shares
("โรงงาน", "ค่าจ้าง", "workers") weigh almost nothing, and 4-grams in more than
``COMMON_DOCUMENTS`` corpus texts weigh nothing at all. Nor do the 4-grams of province and
district names (with their "จังหวัด", "อำเภอ" forms, in Thai and English): a place says where,
not what, and every candidate is in the need's own province, where an unrelated report from the
same district names the same places. Two needs' similarity is the cosine of their weighted
4-gram sets. The threshold is chosen on labelled real text
(training/data/related_pairs.jsonl, ``needs-router related-pairs``).

A need joins the cluster of its best match above the threshold and keeps that cluster's id for
good; a need that matches nothing starts a cluster whose id follows from its own need id, so the
id is the same however often routing runs. Workplace drug tips are never clustered: a cluster of
tips about one workplace, or its size, tells how many people informed on it, and with the one
or two informants a small workplace has that points at them. No count below any k is safe when
k informants are the whole staff, so drug tips stay out of clustering altogether.
"""

import functools
import itertools
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import geothai

from shared.contracts.events import CaseLinked, NeedScreened
from shared.contracts.need_types import NeedType
from shared.contracts.offices import Office

# Chosen on the "choose" half of training/data/related_pairs.jsonl (`needs-router related-pairs`):
# the best recall with precision at least 0.9 there. tests/unit/test_related_needs_matching.py
# holds it to the figures reported (README, "Related needs").
MATCH_THRESHOLD = 0.0548
GRAM_SIZE = 4
# Rarity counts as idf ** WEIGHT_POWER: a shared name must outweigh many shared common words.
# Chosen with the threshold on the pairs (README, "Related needs").
WEIGHT_POWER = 3
# A 4-gram in more corpus texts than this is a word of every labour report: it weighs nothing,
# which also keeps the comparison from walking the long lists of needs that share it.
COMMON_DOCUMENTS = 10
GRAM_FREQUENCIES = Path(__file__).with_name("related_needs_grams.json")
DEFAULT_WINDOW = timedelta(days=30)
# How many earlier needs of one province and type a new need is compared with, newest first: a
# province's open needs of one type in 30 days are a few dozen at the national average.
DEFAULT_MAX_CANDIDATES = 50
# How many relatives a case names, and how many earlier cases learn of a new one: the newest. A
# cluster of hundreds of reports about one factory must not make each new one cost hundreds of events.
DEFAULT_MAX_RELATED = 20
# How often one case may be told of new relatives: a flood of reports about one workplace must
# not send each of its cases a case.linked with every routing batch. What it gains meanwhile is
# told at once when the interval has passed.
DEFAULT_LINK_INTERVAL = timedelta(seconds=5)
# How long the lookup keeps a need once it is routed. Past the window a need is no candidate, but
# until it is forgotten a cluster it is in still names it to the cluster's new needs (an agency
# sees that the workplace was reported months ago). A year, as intake keeps a resolved need's
# personal data; then the description and the place leave routing's tables too.
DEFAULT_KEEP_FOR = timedelta(days=365)

_CLUSTER_NAMESPACE = uuid.UUID("5f0c2a7e-4d1b-4e8a-9b6c-3a2d1e0f9c84")
_LINKED_NAMESPACE = uuid.UUID("0b9e7d3c-61a4-4f2e-8c5d-7e1a2b3c4d5f")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_DIGIT = re.compile("[๐-๙]")
_NOT_A_LETTER = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class RelatedNeedsPolicy:
    """How far back and how many earlier needs to compare, how alike they must be, how many relatives to name,
    how often one case may be told of new relatives, and how long a routed need is kept."""

    window: timedelta = DEFAULT_WINDOW
    threshold: float = MATCH_THRESHOLD
    max_candidates: int = DEFAULT_MAX_CANDIDATES
    max_related: int = DEFAULT_MAX_RELATED
    link_interval: timedelta = DEFAULT_LINK_INTERVAL
    keep_for: timedelta = DEFAULT_KEEP_FOR


def letters(description: str) -> str:
    """The description as it is compared: lower case, Arabic digits, no spaces or punctuation."""
    # Most descriptions are already NFKC and have no Thai digit: checking is far cheaper than converting.
    if not unicodedata.is_normalized("NFKC", description):
        description = unicodedata.normalize("NFKC", description)
    if _THAI_DIGIT.search(description):
        description = description.translate(_THAI_DIGITS)
    return _NOT_A_LETTER.sub("", description.lower())


@dataclass(frozen=True, slots=True)
class Features:
    """A need's 4-grams that weigh anything, each with its squared weight, and the length of the vector."""

    weights: Mapping[str, float]
    norm: float


def features(normalised: str) -> Features:
    """The weighted 4-grams of a description already passed through ``letters``."""
    table = _squared_weights()
    get, default = table.get, table[""]
    weights = {gram: weight for gram in _grams(normalised) if (weight := get(gram, default))}
    return Features(weights, math.sqrt(sum(weights.values())))


def similarity(first: Features, second: Features) -> float:
    """How alike two needs are, 0 to 1: the cosine of their weighted 4-gram sets."""
    if not first.norm or not second.norm:
        return 0.0
    shared = sum(first.weights[gram] for gram in first.weights.keys() & second.weights.keys())
    return shared / (first.norm * second.norm)


def load_weights() -> None:
    """Read the 4-gram table and the place names now (at start-up), not when the first need comes."""
    _squared_weights()


@functools.cache
def _squared_weights() -> Mapping[str, float]:
    """Each known 4-gram's squared weight (0 for common ones); ``""`` holds the weight of an unseen one."""
    table = json.loads(GRAM_FREQUENCIES.read_text(encoding="utf-8"))
    documents = table["documents"]

    def squared(in_documents: int) -> float:
        if in_documents > COMMON_DOCUMENTS:
            return 0.0
        return math.log((documents + 1) / (in_documents + 1)) ** (2 * WEIGHT_POWER)

    weights = {gram: squared(count) for gram, count in table["documents_with"].items()}
    weights.update(dict.fromkeys(_place_grams(), 0.0))
    weights[""] = squared(0)
    return weights


def _place_grams() -> set[str]:
    names = []
    for province in geothai.provinces():
        names += [province.name_th, province.name_en, f"จังหวัด{province.name_th}", f"จ.{province.name_th}"]
        names.append(f"{province.name_en} province")
        for district in geothai.districts(province.code):
            names += [district.name_th, district.name_en, f"อำเภอ{district.name_th}", f"อ.{district.name_th}"]
            names.append(f"{district.name_en} district")
    return set(itertools.chain.from_iterable(_grams(letters(name)) for name in names))


def _grams(normalised: str) -> set[str]:
    return {normalised[start : start + GRAM_SIZE] for start in range(len(normalised) - GRAM_SIZE + 1)}


def cluster_type(screened: NeedScreened) -> NeedType | None:
    """The type a need is clustered under: its most confident one; None for drug tips and untyped needs."""
    if not screened.types or any(item.type is NeedType.DRUGS_WORKPLACE for item in screened.types):
        return None
    return max(screened.types, key=lambda item: item.confidence).type


@functools.lru_cache(maxsize=1 << 14)  # asked of each need several times while its batch is placed
def first_cluster_id(need_id: UUID) -> UUID:
    """The id of the cluster a need starts when it matches nothing."""
    return uuid.uuid5(_CLUSTER_NAMESPACE, str(need_id))


@dataclass(frozen=True, slots=True)
class ClusterKey:
    """Where related needs are looked for: one province and one type."""

    province_code: str
    need_type: NeedType


@dataclass(frozen=True, slots=True)
class KnownNeed:
    """A need already placed in a cluster, as the lookup keeps it."""

    need_id: UUID
    cluster_id: UUID
    features: Features


@dataclass(frozen=True, slots=True)
class NewNeed:
    """A need being routed that may join a cluster."""

    need_id: UUID
    key: ClusterKey
    district_code: str
    letters: str
    features: Features
    offices: tuple[Office, ...]
    routed_at: datetime


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new need went: the cluster it joined or started."""

    need: NewNeed
    cluster_id: UUID


def new_need(screened: NeedScreened, *, offices: Iterable[Office], routed_at: datetime) -> NewNeed | None:
    """The need as the lookup sees it, with the offices its cases went to; None if it is not clustered."""
    need_type = cluster_type(screened)
    if need_type is None:
        return None
    need = screened.need
    normalised = letters(need.description)
    return NewNeed(
        need_id=need.need_id,
        key=ClusterKey(need.province_code, need_type),
        district_code=need.district_code,
        letters=normalised,
        features=features(normalised),
        offices=tuple(sorted(set(offices))),
        routed_at=routed_at,
    )


class Candidates:
    """The earlier needs of one key that new needs are compared with, and which of them holds each 4-gram.

    Kept between batches, so a need's 4-grams are made and indexed once, and a new need costs
    the look-up of its own 4-grams, not a comparison with every candidate. Needs are numbered
    in the order they were added (the order of placing): numbers hash faster than need ids.
    """

    def __init__(self) -> None:
        self._needs: dict[int, KnownNeed] = {}
        self._numbers: dict[UUID, int] = {}
        # Most 4-grams are held by one need: its number, not a dict of one (a routing replica keeps
        # up to 50 needs for each of 385 keys).
        self._holders: dict[str, int | dict[int, None]] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._needs)

    def __contains__(self, need_id: object) -> bool:
        return need_id in self._numbers

    def add(self, need: KnownNeed) -> None:
        """Compare later needs with ``need`` too."""
        number = self._next
        self._next += 1
        self._needs[number] = need
        self._numbers[need.need_id] = number
        holders = self._holders
        for gram in need.features.weights:
            held = holders.get(gram)
            if held is None:
                holders[gram] = number
            elif isinstance(held, int):
                holders[gram] = {held: None, number: None}
            else:
                held[number] = None

    def remove(self, need_id: UUID) -> None:
        """Compare no later need with this one."""
        number = self._numbers.pop(need_id, None)
        if number is None:
            return
        need = self._needs.pop(number)
        for gram in need.features.weights:
            held = self._holders[gram]
            if isinstance(held, int):
                del self._holders[gram]
                continue
            del held[number]
            if len(held) == 1:
                self._holders[gram] = next(iter(held))

    def oldest(self) -> list[UUID]:
        """The needs in the order they were added."""
        return [need.need_id for need in self._needs.values()]

    def matches(self, features: Features, threshold: float) -> list[tuple[float, UUID]]:
        """The needs at least ``threshold`` alike to ``features``, most alike first (the earlier of equals)."""
        if not features.norm:
            return []
        shared: dict[int, float] = {}
        holders = self._holders
        for gram, weight in features.weights.items():
            held = holders.get(gram)
            if held is None:
                continue
            if isinstance(held, int):
                shared[held] = shared.get(held, 0.0) + weight
            else:
                for number in held:
                    shared[number] = shared.get(number, 0.0) + weight
        needs = self._needs
        found = [
            (score, number)
            for number, total in shared.items()
            if (score := total / (features.norm * needs[number].features.norm)) >= threshold
        ]
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(score, needs[number].need_id) for score, number in found]

    def cluster_of(self, need_id: UUID) -> UUID:
        """The cluster a candidate is in."""
        return self._needs[self._numbers[need_id]].cluster_id


def place(
    needs: Iterable[NewNeed],
    candidates: Candidates,
    *,
    threshold: float,
    closed: Container[UUID] = (),
    matched: Mapping[UUID, list[tuple[float, UUID]]] | None = None,
) -> list[Placement]:
    """Place each new need, in order, beside the candidates of its key and the new ones before it.

    ``needs`` and ``candidates`` share one key; the placed needs are added to ``candidates``. A
    need joins the cluster of its most similar need at or above ``threshold`` (the earliest of
    equals) that is not ``closed`` (all its cases resolved), else starts its own. ``matched``:
    each need's ``candidates.matches`` already found (by a caller that had to know them first).
    """
    needs = list(needs)
    batch = Candidates()
    placements = []
    for position, need in enumerate(needs):
        earlier = matched[need.need_id] if matched is not None else candidates.matches(need.features, threshold)
        # The candidates were placed before the batch: of equals, theirs is the earlier cluster.
        found = [(score, 0, need_id) for score, need_id in earlier if need_id not in closed]
        found += [(score, 1, need_id) for score, need_id in batch.matches(need.features, threshold)]
        best = min(found, key=lambda item: (-item[0], item[1]), default=None)
        if best is None:
            cluster_id = first_cluster_id(need.need_id)
        else:
            cluster_id = (candidates if best[1] == 0 else batch).cluster_of(best[2])
        placements.append(Placement(need, cluster_id))
        if position < len(needs) - 1:  # only the needs after it compare with it in this batch
            batch.add(KnownNeed(need.need_id, cluster_id, need.features))
    for placement in placements:
        candidates.add(KnownNeed(placement.need.need_id, placement.cluster_id, placement.need.features))
    return placements


def candidates_of(earlier: Iterable[KnownNeed]) -> Candidates:
    """Candidates holding ``earlier``, in that order."""
    candidates = Candidates()
    for need in earlier:
        candidates.add(need)
    return candidates


@dataclass(frozen=True, slots=True)
class Member:
    """Another need of a cluster, the offices its cases went to, and when it was placed (a sequence)."""

    need_id: UUID
    offices: tuple[Office, ...]
    placed: int


@dataclass(frozen=True, slots=True)
class Clustered:
    """A routed need that is in a cluster with other needs: what its cases carry, whom to tell.

    ``others`` are the cluster's newest other needs, at most the policy's ``max_related``.
    """

    need_id: UUID
    cluster_id: UUID
    need_type: NeedType
    placed: int
    # It joined earlier needs' cluster (it did not start it): the earlier cases learn of it.
    joined: bool
    others: tuple[Member, ...]
    # The cluster's other needs; asked for by each of its cases and each case told of it.
    related_need_ids: tuple[UUID, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "related_need_ids", tuple(member.need_id for member in self.others))


@dataclass(frozen=True, slots=True)
class CaseToTell:
    """An earlier case of a cluster that needs of a batch joined, on one office's queue, and those needs."""

    need_id: UUID
    office: Office
    joiners: tuple[Clustered, ...]


def cases_to_tell(batch: Iterable[Clustered]) -> list[CaseToTell]:
    """Each earlier case of a cluster that needs of this batch joined, once per office however many joined.

    Needs of the same batch are not earlier: their own cases already name each other. "Earlier"
    is the order needs were placed in, not their clocks: replicas' clocks differ. Cheap next to
    the events themselves, which are made (``linked_event``) only for the cases told now.
    """
    clustered_now = list(batch)
    in_batch = {clustered.need_id for clustered in clustered_now}
    told: dict[tuple[UUID, Office], list[Clustered]] = {}
    for clustered in clustered_now:
        if not clustered.joined:
            continue
        for member in clustered.others:
            if member.placed < clustered.placed and member.need_id not in in_batch:
                for office in member.offices:
                    told.setdefault((member.need_id, office), []).append(clustered)
    return [CaseToTell(need_id, office, tuple(joiners)) for (need_id, office), joiners in told.items()]


def linked_event(case: CaseToTell, *, now: datetime) -> CaseLinked:
    """The ``case.linked`` that tells an earlier case of its cluster's needs as the batch left it.

    Its event id follows from the case, its office and the needs that joined.
    """
    latest = max(case.joiners, key=lambda clustered: len(clustered.others))
    everyone = {latest.need_id, *latest.related_need_ids, *(joiner.need_id for joiner in case.joiners)}
    everyone.discard(case.need_id)
    origin = ",".join(sorted(str(joiner.need_id) for joiner in case.joiners))
    return _linked(case.need_id, case.office, latest.cluster_id, everyone, origin=origin, now=now)


def held_back_linked(
    need_id: UUID, office: Office, cluster_id: UUID, others: Iterable[UUID], *, now: datetime
) -> CaseLinked:
    """The ``case.linked`` that tells a case, held back by the link interval, of its cluster's other needs now.

    Its event id follows from the case, its office and the needs it names ("held:" keeps it apart
    from the ids ``linked_event`` makes), so sending it again after a crash keeps it.
    """
    named = set(others)
    origin = "held:" + ",".join(sorted(str(other) for other in named))
    return _linked(need_id, office, cluster_id, named, origin=origin, now=now)


def _linked(
    need_id: UUID, office: Office, cluster_id: UUID, others: set[UUID], *, origin: str, now: datetime
) -> CaseLinked:
    return CaseLinked(
        event_id=uuid.uuid5(_LINKED_NAMESPACE, f"{need_id}:{office.name}:{origin}"),
        need_id=need_id,
        agency=office.agency,
        province_code=office.province_code,
        cluster_id=cluster_id,
        # In the order of their text: a UUID compares as its number, whose hex text has a fixed length.
        related_need_ids=tuple(sorted(others)),
        linked_at=now,
    )
