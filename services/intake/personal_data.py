"""Field-level encryption of the national ID at rest (AES-256-GCM, key from the environment)."""

import base64
import binascii
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class InvalidPersonalDataKey(ValueError):
    """PERSONAL_DATA_KEY is not 32 bytes in standard base64."""


class UnreadablePersonalData(ValueError):
    """A sealed value does not open with this key for this need (wrong key or tampered)."""


class PersonalDataCipher:
    """Seals a value to one need: the need id is authenticated data, so values cannot be swapped."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise InvalidPersonalDataKey("PERSONAL_DATA_KEY must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, encoded: str) -> "PersonalDataCipher":
        """From the PERSONAL_DATA_KEY setting."""
        try:
            return cls(base64.b64decode(encoded, validate=True))
        except binascii.Error as error:
            raise InvalidPersonalDataKey(f"PERSONAL_DATA_KEY is not base64: {error}") from error

    def seal(self, plaintext: str, *, need_id: UUID) -> bytes:
        """Nonce followed by ciphertext and tag."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), need_id.bytes)

    def open(self, sealed: bytes, *, need_id: UUID) -> str:
        """The plaintext of a value sealed for this need."""
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], need_id.bytes).decode()
        except InvalidTag as error:
            raise UnreadablePersonalData("the national ID cannot be decrypted with this key") from error


def generate_key() -> str:
    """A new PERSONAL_DATA_KEY value."""
    return base64.b64encode(os.urandom(32)).decode()
