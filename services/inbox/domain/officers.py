"""Officers: people who work cases in the browser, each in one office."""

from dataclasses import dataclass
from uuid import UUID

from shared.contracts.need_types import MANUAL_SCREENING_AGENCY, Agency
from shared.contracts.offices import Office

MIN_PASSWORD_CHARS = 10


class WeakPassword(ValueError):
    """A password too short to be set."""


@dataclass(frozen=True, slots=True)
class Officer:
    """An officer of one office; a screener of a provincial labour office screens its needs by hand."""

    officer_id: UUID
    name: str
    office: Office
    screener: bool = False
    head: bool = False

    def sees(self, office: Office) -> bool:
        """Whether a case of ``office`` is this officer's to see: their own office, or an area office of it."""
        return self.office.covers(office)

    @property
    def screens(self) -> bool:
        """A screener of a provincial labour office: the needs waiting for manual screening are theirs."""
        return self.screener and self.office.agency is MANUAL_SCREENING_AGENCY

    def may_reveal(self, province_code: str) -> bool:
        """Only the provincial labour office of the need's province may see who is behind it."""
        return self.office.agency is Agency.MOL and self.office.province_code == province_code

    @property
    def identity(self) -> str:
        """How the audit trail and the screening results name this officer."""
        return f"{self.name} ({self.office.name}, officer {self.officer_id})"

    @property
    def role(self) -> str:
        """The officer's role, as the audit log's actor_role."""
        return "screener" if self.screens else "head_of_office" if self.head else "officer"


def check_password(password: str) -> None:
    """Refuse a password too short, with the reason."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"password: at least {MIN_PASSWORD_CHARS} characters")
