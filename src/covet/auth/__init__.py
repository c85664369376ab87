"""Authentication building blocks: JSON Web Tokens and password hashing (stdlib core).

``covet.auth.jwt`` signs and verifies tokens (HS256/384/512; RS256/ES256 with the
``crypto`` extra); ``covet.auth.passwords`` hashes passwords with scrypt (argon2id with
the ``crypto`` extra).
"""

from __future__ import annotations

from covet.auth import jwt
from covet.auth.jwt import ExpiredToken, InvalidToken
from covet.auth.passwords import PasswordHasher, hash_password, needs_rehash, verify_password

__all__ = (
    "ExpiredToken",
    "InvalidToken",
    "PasswordHasher",
    "hash_password",
    "jwt",
    "needs_rehash",
    "verify_password",
)
