"""API keys: a public id and a secret; only the secret's hash is ever stored."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts.need_types import Agency
from shared.contracts.offices import Office

_PREFIX = "nrk"


class Role(StrEnum):
    """What a caller is: an upstream volunteer app, an agency's system, or an administrator."""

    VOLUNTEER_APP = "volunteer_app"
    AGENCY = "agency"
    ADMIN = "admin"


class InvalidKeyScope(ValueError):
    """An agency key without an agency, an agency bound to a key of another role, or an office of another agency."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid key."""

    key_id: str
    role: Role
    owner: str
    agency: Agency | None
    provinces: frozenset[str]
    offices: frozenset[Office] = frozenset()  # area offices, beside the whole provinces

    def serves_province(self, province_code: str) -> bool:
        """An agency key with no provinces or offices is national; otherwise only its whole provinces."""
        return (not self.provinces and not self.offices) or province_code in self.provinces

    @property
    def scope(self) -> frozenset[Office]:
        """The offices whose cases the key covers (a province covers its area offices); empty: national."""
        if self.agency is None:
            return frozenset()
        return self.offices | {Office(self.agency, province) for province in self.provinces}

    def serves(self, office: Office) -> bool:
        """Whether a case of ``office`` is this agency key's: its agency, in its scope."""
        return office.agency is self.agency and (not self.scope or any(mine.covers(office) for mine in self.scope))


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: ``token`` is shown once and never stored."""

    key_id: str
    token: str
    secret_hash: str


def new_key() -> NewKey:
    """A fresh key: ``nrk_<key id>_<secret>``."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id=key_id, token=f"{_PREFIX}_{key_id}_{secret}", secret_hash=hash_secret(secret))


def hash_secret(secret: str) -> str:
    """SHA-256 of a 256-bit random secret: no salt or slow hash is needed for that much entropy."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def check_scope(role: Role, agency: Agency | None, offices: Iterable[Office] = ()) -> None:
    """Agency keys name their agency; other keys name none; a key's offices are its agency's."""
    if role is Role.AGENCY and agency is None:
        raise InvalidKeyScope("an agency key needs --agency")
    if role is not Role.AGENCY and agency is not None:
        raise InvalidKeyScope("only agency keys are bound to an agency")
    for office in offices:
        if office.agency is not agency:
            raise InvalidKeyScope(f"office {office.name} is not an office of {agency or 'a key without agency'}")


def is_usable(*, now: datetime, expires_at: datetime | None, revoked_at: datetime | None) -> bool:
    """Neither revoked nor expired."""
    return revoked_at is None and (expires_at is None or now < expires_at)
