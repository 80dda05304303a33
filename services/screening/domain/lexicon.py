"""The screening knowledge (words, weights, markers, thresholds) read from TOML files."""

import pathlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.screening.domain.normalise import NormalisedText, Rewrite, normalise_for_matching
from shared.contracts.need_types import NeedType

DEFAULT_LEXICON_DIR = pathlib.Path(__file__).resolve().parent.parent / "lexicon"
MAIN_FILE_NAME = "screening.toml"


class LexiconError(ValueError):
    """A lexicon file is missing, malformed or refers to something unknown."""


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Words and patterns that count as evidence for one need type (or for none: neutral)."""

    type: NeedType | None
    name: str
    weight: float
    words: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    whole_token: bool
    context: str | None
    with_context: float
    without_context: float


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A near-miss: when its words appear, evidence for some types is scaled down."""

    name: str
    words: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    types: frozenset[NeedType]
    factor: float
    min_hits: int
    keep_groups: frozenset[str]
    unless_context: str | None
    only_with_context: str | None


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    """Numbers that turn matched evidence into accepted types."""

    saturation: float
    accept_threshold: float
    type_thresholds: Mapping[NeedType, float]
    suggestion_boost: float
    negated_factor: float
    before_contrast_factor: float
    negation_window: int
    max_chars: int

    def threshold_for(self, need_type: NeedType) -> float:
        """Return the acceptance threshold of one type."""
        return self.type_thresholds.get(need_type, self.accept_threshold)


@dataclass(frozen=True, slots=True)
class LanguageSettings:
    """Unicode script ranges and the shares that decide the language label."""

    scripts: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]
    unsupported: frozenset[str]
    unsupported_share: float
    mixed_share: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything the classifier knows, as loaded from the data files."""

    version: str
    rewrites: tuple[Rewrite, ...]
    scoring: ScoringSettings
    language: LanguageSettings
    negation: tuple[str, ...]
    negation_scope_end: tuple[str, ...]
    contrast: tuple[str, ...]
    concession: tuple[str, ...]
    contexts: Mapping[str, tuple[str, ...]]
    groups: tuple[TermGroup, ...]
    exclusions: tuple[Exclusion, ...]
    # Whether Classifier.load() adds the packaged statistical model to the rules.
    model_enabled: bool = False

    def normalise(self, text: str) -> NormalisedText:
        """Normalise text the way the lexicon's words were normalised."""
        return normalise_for_matching(text, self.rewrites)


def load_lexicon(path: pathlib.Path | None = None) -> Lexicon:
    """Load a lexicon from a directory holding screening.toml, or from one TOML file."""
    path = DEFAULT_LEXICON_DIR if path is None else path
    main_file = path / MAIN_FILE_NAME if path.is_dir() else path
    main = _read_toml(main_file)
    version = _get(main, "version", str, main_file)
    rewrites = tuple(_rewrite(raw, main_file) for raw in _get(main, "rewrites", list, main_file, []))
    reader = _Reader(main_file, rewrites)
    contexts = {
        name: reader.words(words, f"contexts.{name}")
        for name, words in _get(main, "contexts", dict, main_file, {}).items()
    }
    groups = reader.groups(main, None, contexts)
    for relative in _get(main, "type_files", list, main_file, []):
        type_reader = _Reader(main_file.parent / str(relative), rewrites)
        data = _read_toml(type_reader.source)
        need_type = _need_type(_get(data, "type", str, type_reader.source), type_reader.source)
        groups.extend(type_reader.groups(data, need_type, contexts))
    markers = _get(main, "markers", dict, main_file)
    return Lexicon(
        version=version,
        rewrites=rewrites,
        scoring=_scoring(_get(main, "scoring", dict, main_file), main_file),
        language=_language(_get(main, "language", dict, main_file), main_file),
        negation=reader.words(_get(markers, "negation", list, main_file), "markers.negation"),
        negation_scope_end=reader.words(
            _get(markers, "negation_scope_end", list, main_file, []), "markers.negation_scope_end"
        ),
        contrast=reader.words(_get(markers, "contrast", list, main_file), "markers.contrast"),
        concession=reader.words(_get(markers, "concession", list, main_file, []), "markers.concession"),
        contexts=contexts,
        groups=tuple(groups),
        exclusions=tuple(reader.exclusion(raw, contexts) for raw in _get(main, "exclusions", list, main_file, [])),
        model_enabled=_get(_get(main, "model", dict, main_file, {}), "enabled", bool, main_file, False),
    )


def _read_toml(path: pathlib.Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise LexiconError(f"cannot read lexicon file {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise LexiconError(f"{path}: invalid TOML: {error}") from error


_MISSING: Any = object()


def _get(table: Mapping[str, Any], key: str, kind: type, source: pathlib.Path, default: Any = _MISSING) -> Any:
    if key not in table:
        if default is _MISSING:
            raise LexiconError(f"{source}: missing key '{key}'")
        return default
    value = table[key]
    # bool is an int in Python, but a weight of `true` is a mistake worth reporting.
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise LexiconError(f"{source}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def _patterns(raw: Any, where: str, source: pathlib.Path) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(pattern, str) for pattern in raw):
        raise LexiconError(f"{source}: '{where}' must be a list of strings")
    compiled = []
    for pattern in raw:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise LexiconError(f"{source}: bad pattern {pattern!r} in '{where}': {error}") from error
    return tuple(compiled)


def _need_type(raw: str, source: pathlib.Path) -> NeedType:
    try:
        return NeedType(raw)
    except ValueError as error:
        known = ", ".join(need_type.value for need_type in NeedType)
        raise LexiconError(f"{source}: unknown need type {raw!r} (known: {known})") from error


def _context(raw: Any, contexts: Mapping[str, object], where: str, source: pathlib.Path) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in contexts:
        raise LexiconError(f"{source}: '{where}' names unknown context {raw!r}")
    return raw


class _Reader:
    """Reads word lists from one file, normalising words the way descriptions are normalised."""

    def __init__(self, source: pathlib.Path, rewrites: tuple[Rewrite, ...]) -> None:
        self.source = source
        self._rewrites = rewrites

    def words(self, raw: Any, where: str) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(word, str) for word in raw):
            raise LexiconError(f"{self.source}: '{where}' must be a list of strings")
        words = (normalise_for_matching(word, self._rewrites).text for word in raw)
        return tuple(dict.fromkeys(word for word in words if word))

    def groups(
        self, data: Mapping[str, Any], need_type: NeedType | None, contexts: Mapping[str, object]
    ) -> list[TermGroup]:
        source = self.source
        groups = []
        for index, raw in enumerate(_get(data, "groups", list, source, [])):
            name = _get(raw, "name", str, source, f"group{index}")
            where = f"groups[{name}]"
            groups.append(
                TermGroup(
                    type=need_type,
                    name=name,
                    weight=0.0 if need_type is None else _get(raw, "weight", float, source),
                    words=self.words(raw.get("words", []), f"{where}.words"),
                    patterns=_patterns(raw.get("patterns", []), f"{where}.patterns", source),
                    whole_token=_get(raw, "whole_token", bool, source, False),
                    context=_context(raw.get("context"), contexts, f"{where}.context", source),
                    with_context=_get(raw, "with_context", float, source, 1.0),
                    without_context=_get(raw, "without_context", float, source, 1.0),
                )
            )
        return groups

    def exclusion(self, raw: Any, contexts: Mapping[str, object]) -> Exclusion:
        source = self.source
        name = _get(raw, "name", str, source)
        types = _get(raw, "types", list, source)
        every_type = types == ["*"]
        return Exclusion(
            name=name,
            words=self.words(raw.get("words", []), f"exclusions[{name}].words"),
            patterns=_patterns(raw.get("patterns", []), f"exclusions[{name}].patterns", source),
            types=frozenset(NeedType) if every_type else frozenset(_need_type(t, source) for t in types),
            factor=_get(raw, "factor", float, source),
            min_hits=_get(raw, "min_hits", int, source, 1),
            keep_groups=frozenset(_get(raw, "keep_groups", list, source, [])),
            unless_context=_context(raw.get("unless_context"), contexts, f"exclusions[{name}]", source),
            only_with_context=_context(raw.get("only_with_context"), contexts, f"exclusions[{name}]", source),
        )


def _rewrite(raw: Any, source: pathlib.Path) -> Rewrite:
    pattern = _get(raw, "pattern", str, source)
    replacement = _get(raw, "replacement", str, source)
    return Rewrite(_patterns([pattern], "rewrites", source)[0], replacement)


def _scoring(raw: Mapping[str, Any], source: pathlib.Path) -> ScoringSettings:
    thresholds = _get(raw, "type_thresholds", dict, source, {})
    return ScoringSettings(
        saturation=_get(raw, "saturation", float, source),
        accept_threshold=_get(raw, "accept_threshold", float, source),
        type_thresholds={_need_type(key, source): float(value) for key, value in thresholds.items()},
        suggestion_boost=_get(raw, "suggestion_boost", float, source),
        negated_factor=_get(raw, "negated_factor", float, source),
        before_contrast_factor=_get(raw, "before_contrast_factor", float, source),
        negation_window=_get(raw, "negation_window", int, source),
        max_chars=_get(raw, "max_chars", int, source),
    )


def _language(raw: Mapping[str, Any], source: pathlib.Path) -> LanguageSettings:
    scripts = []
    for code, ranges in _get(raw, "scripts", dict, source).items():
        if not isinstance(ranges, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, int) for n in pair) for pair in ranges
        ):
            raise LexiconError(f"{source}: language.scripts.{code} must be a list of [first, last] code points")
        scripts.append((code, tuple((first, last) for first, last in ranges)))
    return LanguageSettings(
        scripts=tuple(scripts),
        unsupported=frozenset(_get(raw, "unsupported", list, source)),
        unsupported_share=_get(raw, "unsupported_share", float, source),
        mixed_share=_get(raw, "mixed_share", float, source),
    )
