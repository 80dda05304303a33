"""What routing made of one screened need."""

from dataclasses import dataclass

from shared.contracts.events import NeedScreened, RoutedCase


@dataclass(frozen=True, slots=True)
class Routed:
    """A screened need and the cases routing made of it; routing keeps both."""

    screened: NeedScreened
    cases: list[RoutedCase]

    @property
    def by_hand(self) -> bool:
        """A screener's decision: it closes the need's manual-screening case."""
        return self.screened.screened_by is not None
