"""Officers' passwords as argon2id hashes (argon2-cffi), and the random tokens of links and sessions."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Verified when the name is unknown, so that a wrong name takes as long as a wrong password.
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash with its own salt and parameters."""
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; False for no hash, at the same cost."""
    try:
        return _HASHER.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A random token for a cookie or a link (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """What the database keeps of a token: its SHA-256, so a copy of the table opens nothing."""
    return hashlib.sha256(token.encode()).digest()
