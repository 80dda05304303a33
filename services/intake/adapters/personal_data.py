"""Field-level encryption of the national ID at rest (AES-256-GCM, keys from the environment).

Several keys can be configured at once so that they can be rotated: the first seals new values,
every one of them opens the values sealed under its id (the id is stored with each value).
"""

import base64
import binascii
import os
import re
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
# The id a lone key (PERSONAL_DATA_KEY=<base64>) has: what every value sealed before rotation existed carries.
DEFAULT_KEY_ID = "default"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class InvalidPersonalDataKey(ValueError):
    """PERSONAL_DATA_KEY is not a base64 key of 32 bytes, or not a list of ``id:key`` pairs."""


class UnreadablePersonalData(ValueError):
    """A sealed value does not open with the keys configured (wrong or missing key, or tampered)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed value and the id of the key that sealed it; both are stored."""

    key_id: str
    value: bytes


class _Key:
    def __init__(self, key_id: str, encoded: str) -> None:
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise InvalidPersonalDataKey(f"PERSONAL_DATA_KEY: key {key_id!r} is not base64: {error}") from error
        if len(key) != 32:
            raise InvalidPersonalDataKey(
                f"PERSONAL_DATA_KEY: key {key_id!r} must be 32 bytes (base64 of 32 random bytes), not {len(key)}"
            )
        self.aead = AESGCM(key)


class PersonalDataCipher:
    """Seals a value to one need: the need id is authenticated data, so values cannot be swapped."""

    def __init__(self, keys: dict[str, str]) -> None:
        if not keys:
            raise InvalidPersonalDataKey("PERSONAL_DATA_KEY: no key given")
        self._keys = {key_id: _Key(key_id, encoded) for key_id, encoded in keys.items()}
        self.current_key_id = next(iter(keys))

    @classmethod
    def from_base64(cls, setting: str) -> "PersonalDataCipher":
        """From the PERSONAL_DATA_KEY setting: one base64 key, or ``id:key,id:key`` with the sealing key first."""
        if ":" not in setting:
            return cls({DEFAULT_KEY_ID: setting})
        keys: dict[str, str] = {}
        for pair in setting.split(","):
            key_id, separator, encoded = pair.strip().partition(":")
            if not separator or not _KEY_ID.match(key_id):
                raise InvalidPersonalDataKey(
                    f"PERSONAL_DATA_KEY: {key_id!r} is not 'id:base64-key' with an id of 1-40 letters, digits, . _ -"
                )
            if key_id in keys:
                raise InvalidPersonalDataKey(f"PERSONAL_DATA_KEY: key id {key_id!r} is given twice")
            keys[key_id] = encoded
        return cls(keys)

    @property
    def key_ids(self) -> frozenset[str]:
        """Every key id this cipher can open."""
        return frozenset(self._keys)

    def seal(self, plaintext: str, *, need_id: UUID) -> Sealed:
        """Nonce followed by ciphertext and tag, under the current key."""
        nonce = os.urandom(_NONCE_BYTES)
        aead = self._keys[self.current_key_id].aead
        return Sealed(self.current_key_id, nonce + aead.encrypt(nonce, plaintext.encode(), need_id.bytes))

    def open(self, sealed: bytes, *, key_id: str, need_id: UUID) -> str:
        """The plaintext of a value sealed for this need under ``key_id``."""
        key = self._keys.get(key_id)
        if key is None:
            raise UnreadablePersonalData(f"the national ID is sealed under key {key_id!r}, not in PERSONAL_DATA_KEY")
        try:
            return key.aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], need_id.bytes).decode()
        except InvalidTag as error:
            raise UnreadablePersonalData(f"the national ID cannot be decrypted with key {key_id!r}") from error


def generate_key() -> str:
    """A new key, base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(32)).decode()
