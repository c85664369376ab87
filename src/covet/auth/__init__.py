"""Authentication building blocks (stdlib core): tokens, passwords, one-time codes, RBAC, API keys.

``covet.auth.jwt`` signs and verifies tokens (HS256/384/512; RS256/ES256 with the
``crypto`` extra); ``covet.auth.passwords`` hashes passwords with scrypt (argon2id with
the ``crypto`` extra); ``covet.auth.totp`` makes and checks TOTP/HOTP codes and recovery
codes; ``covet.auth.rbac`` maps roles to permissions and guards handlers;
``covet.auth.api_keys`` issues and verifies API keys (``covet.auth.api_keys_orm`` keeps
them in a database table).
"""

from __future__ import annotations

from covet.auth import api_keys, jwt, rbac, totp
from covet.auth.api_keys import APIKeyRecord, APIKeys, InvalidAPIKey, MemoryAPIKeyStore
from covet.auth.jwt import ExpiredToken, InvalidToken
from covet.auth.passwords import PasswordHasher, hash_password, needs_rehash, verify_password
from covet.auth.rbac import RBAC, Policy, Role

__all__ = (
    "RBAC",
    "APIKeyRecord",
    "APIKeys",
    "ExpiredToken",
    "InvalidAPIKey",
    "InvalidToken",
    "MemoryAPIKeyStore",
    "PasswordHasher",
    "Policy",
    "Role",
    "api_keys",
    "hash_password",
    "jwt",
    "needs_rehash",
    "rbac",
    "totp",
    "verify_password",
)
