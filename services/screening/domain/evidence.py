"""Turning lexicon hits into weighted evidence: negation, contrast, context and near-misses."""

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from services.screening.domain.lexicon import Exclusion, Lexicon
from services.screening.domain.matching import Hit, MarkerFinder, Tokens, find_words
from services.screening.domain.normalise import NormalisedText
from services.screening.domain.trie import WordLists, compile_words
from shared.contracts.need_types import NeedType

# Where a clause ends for negation and contrast. A full stop only counts after a Latin
# word: in Thai it marks abbreviations (ม. 40, จ.ศรีสะเกษ, 10.00 น.).
_CLAUSE_BREAK = re.compile(r"[\n!?;,()\[\]|]|(?<=[a-z])\.(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One matched word or phrase and how much it counts for one need type."""

    type: NeedType
    text: str
    group: str
    weight: float


@dataclass(frozen=True, slots=True)
class WeighedText:
    """The evidence of one text and the near-miss rules that changed it."""

    evidence: tuple[Evidence, ...]
    near_misses: tuple[str, ...]
    # Types the text speaks against: negated or conceded words, or a near-miss rule that
    # fired. The statistical second opinion may not add them.
    vetoed: frozenset[NeedType] = frozenset()


class EvidenceWeigher:
    """Applies the lexicon's modifiers to hits; holds only precompiled, read-only data."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._scoring = lexicon.scoring
        self._negation = MarkerFinder(lexicon.negation)
        self._scope_end = MarkerFinder(lexicon.negation_scope_end)
        self._contrast = MarkerFinder(lexicon.contrast)
        self._concession = MarkerFinder(lexicon.concession)
        self._exclusions = tuple((exclusion, compile_words(exclusion.words)) for exclusion in lexicon.exclusions)
        # One pass tells which contexts (keyed by name) and near-miss rules (keyed by their
        # place in _exclusions) have a word in the text.
        lists: dict[str | int, tuple[str, ...]] = dict(lexicon.contexts.items())
        lists.update((index, exclusion.words) for index, exclusion in enumerate(lexicon.exclusions))
        self._words_present = WordLists(lists)

    def weigh(self, text: NormalisedText, tokens: Tokens, hits: list[Hit]) -> WeighedText:
        """Return the evidence of hits after negation, contrast, context and near-misses."""
        contrasts = [start for start, _ in self._contrast.find(text.text, tokens)]
        # A comma typed just before but/แต่ ("the permit is valid, but ...") joins the two
        # clauses rather than ending a sentence.
        joining_commas = {_comma_before(text.text, contrast) for contrast in contrasts}
        clause_breaks = [
            match.start() for match in _CLAUSE_BREAK.finditer(text.text) if match.start() not in joining_commas
        ]
        all_negations = self._negation.find(text.text, tokens)
        negations = [
            span
            for span in all_negations
            # A negation inside a matched phrase belongs to it (เงินเดือนไม่ออก: pay not out).
            if not any(hit.start <= span[0] < hit.end for hit in hits)
        ]
        # A phrase that opens with its own negation states a negative fact; a negation of an
        # earlier coordinated verb does not flip it (ไม่ตักเตือนและไม่จ่ายค่าชดเชย).
        self_negated = {start for start, _ in all_negations}
        # Joiners (และ, and) end a negation's reach; only worth finding when something is negated.
        scope_ends = [start for start, _ in self._scope_end.find(text.text, tokens)] if negations else []
        segment_breaks = sorted(clause_breaks + contrasts + scope_ends)
        negated = [
            hit.start not in self_negated and self._is_negated(hit, negations, segment_breaks, text, tokens)
            for hit in hits
        ]
        asserted = [hit for hit, is_negated in zip(hits, negated, strict=True) if not is_negated]
        concessions = [start for start, _ in self._concession.find(text.text, tokens)] if contrasts else []
        words_present = self._words_present.present(text.text)
        present = {key for key in words_present if isinstance(key, str)}

        evidence = []
        vetoed: set[NeedType] = set()
        for hit, is_negated in zip(hits, negated, strict=True):
            typed = any(group.type is not None for group in hit.groups)
            conceded = (
                typed
                and not is_negated
                and self._intent_comes_later(hit, asserted, contrasts, clause_breaks, concessions)
            )
            for group in hit.groups:
                if group.type is None:
                    continue
                weight = group.weight
                if is_negated:
                    weight *= self._scoring.negated_factor
                    vetoed.add(group.type)
                elif conceded:
                    weight *= self._scoring.before_contrast_factor
                    vetoed.add(group.type)
                if group.context is not None:
                    weight *= group.with_context if group.context in present else group.without_context
                evidence.append(Evidence(group.type, hit.text, group.name, weight))

        near_misses = []
        for index, (exclusion, words) in enumerate(self._exclusions):
            if not self._fires(exclusion, words, index in words_present, text.text, present):
                continue
            vetoed.update(exclusion.types)
            affected = [
                index
                for index, item in enumerate(evidence)
                if item.type in exclusion.types and item.group not in exclusion.keep_groups and item.weight > 0
            ]
            # Only a rule that changed some evidence is worth naming as the reason.
            if affected:
                near_misses.append(exclusion.name)
            for index in affected:
                item = evidence[index]
                evidence[index] = Evidence(item.type, item.text, item.group, item.weight * exclusion.factor)
        return WeighedText(tuple(evidence), tuple(near_misses), frozenset(vetoed))

    def _is_negated(
        self,
        hit: Hit,
        negations: list[tuple[int, int]],
        segment_breaks: list[int],
        text: NormalisedText,
        tokens: Tokens,
    ) -> bool:
        # Tokenising is the costly part (about a quarter of screening's CPU): skip it when no
        # negation comes before the hit, which is most of the time.
        if not negations or negations[0][1] > hit.start:
            return False
        hit_token = tokens.index_at(hit.start)
        for start, end in negations:
            if end > hit.start:
                break
            # A pause (a space the writer typed between Thai words) ends the negated phrase,
            # even inside a multi-word marker such as ไม่ได้|อยาก.
            same_clause = _none_between(segment_breaks, start, hit.start) and _none_between(
                text.pauses, start + 1, hit.start + 1
            )
            words_between = sum(
                1 for word in tokens.words[tokens.index_at(end - 1) + 1 : hit_token] if not word.isspace()
            )
            if same_clause and words_between <= self._scoring.negation_window:
                return True
        return False

    @staticmethod
    def _intent_comes_later(
        hit: Hit, asserted: list[Hit], contrasts: list[int], clause_breaks: list[int], concessions: list[int]
    ) -> bool:
        """Tell whether the hit is conceded before but/แต่ and the later clause has its own evidence.

        Only a conceding clause ("the permit is in order, but ...") gives way: a plain
        "dismissed, but the employer hired illegal migrants" reports two real problems.
        """
        for contrast in contrasts:
            if contrast < hit.end or not _none_between(clause_breaks, hit.end, contrast):
                continue
            clause_start = max((offset for offset in (*clause_breaks, *contrasts) if offset < hit.start), default=0)
            if _none_between(concessions, clause_start, contrast):
                return False
            return any(
                other.start >= contrast
                and _none_between(clause_breaks, contrast, other.start)
                and any(group.type is not None for group in other.groups)
                for other in asserted
            )
        return False

    def _fires(
        self, exclusion: Exclusion, words: re.Pattern[str] | None, has_word: bool, text: str, present: set[str]
    ) -> bool:
        if exclusion.unless_context is not None and exclusion.unless_context in present:
            return False
        if exclusion.only_with_context is not None and exclusion.only_with_context not in present:
            return False
        if exclusion.min_hits == 1:
            return has_word or any(pattern.search(text) for pattern in exclusion.patterns)
        found = {word for _, word in find_words(words, text)}
        for pattern in exclusion.patterns:
            found.update(match.group(0) for match in pattern.finditer(text))
        return len(found) >= exclusion.min_hits


def _comma_before(text: str, offset: int) -> int:
    """Return the offset of a comma directly before offset (spaces allowed), or -1."""
    head = text[:offset].rstrip(" ")
    return len(head) - 1 if head.endswith(",") else -1


def _none_between(sorted_offsets: Sequence[int], start: int, end: int) -> bool:
    """Tell whether no offset in the sorted list lies in [start, end)."""
    index = bisect_left(sorted_offsets, start)
    return index == len(sorted_offsets) or sorted_offsets[index] >= end
