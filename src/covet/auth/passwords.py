"""Password hashing: scrypt from the stdlib, argon2id when ``argon2-cffi`` is installed.

Hashes are self-describing strings, so parameters can be raised later and old hashes
still verify (``needs_rehash`` says when to re-hash at the next login)::

    $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>
    $argon2id$v=19$m=65536,t=3,p=4$...            (argon2-cffi's own format)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from typing import Any, Literal

from covet.exceptions import MissingDependency

__all__ = ("PasswordHasher", "hash_password", "needs_rehash", "verify_password")

Scheme = Literal["scrypt", "argon2"]

MAX_PASSWORD_BYTES = 4096
"""Longer passwords are refused: hashing cost must not be the attacker's to choose."""

_SCRYPT = re.compile(
    r"\$scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,2}),p=(?P<p>\d{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)
_MAX_LN = 20  # 2**20 * 128 * r bytes: anything above would be a denial of service


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _password_bytes(password: str | bytes) -> bytes:
    data = password.encode() if isinstance(password, str) else password
    if not isinstance(data, bytes):
        raise TypeError("password must be str or bytes")
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password longer than {MAX_PASSWORD_BYTES} bytes")
    if b"\x00" in data:
        # scrypt's HMAC zero-pads short keys, so "pw" and "pw\0" would hash alike.
        raise ValueError("password contains a NUL byte")
    return data


class PasswordHasher:
    """Hash and verify passwords with one configured scheme.

    ``scheme="scrypt"`` (default, stdlib) takes ``ln`` (log2 of N), ``r`` and ``p``;
    ``scheme="argon2"`` needs ``argon2-cffi`` (``covetpy[crypto]``) and passes ``**options``
    (``time_cost``, ``memory_cost``, ``parallelism``) to ``argon2.PasswordHasher``.
    ``verify`` accepts hashes of either scheme.
    """

    def __init__(
        self, scheme: Scheme = "scrypt", *, ln: int = 15, r: int = 8, p: int = 1, **options: Any
    ) -> None:
        if scheme not in ("scrypt", "argon2"):
            raise ValueError(f"unknown password scheme {scheme!r}")
        if not (1 <= ln <= _MAX_LN and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt parameters out of range")
        if scheme == "scrypt" and options:
            raise TypeError(f"unexpected options for scrypt: {sorted(options)}")
        self.scheme = scheme
        self.ln, self.r, self.p = ln, r, p
        self._argon2: Any = _argon2_hasher(options) if scheme == "argon2" else None

    def hash(self, password: str | bytes) -> str:
        """A new hash of ``password`` with a random salt."""
        data = _password_bytes(password)
        if self._argon2 is not None:
            return str(self._argon2.hash(data))
        salt = secrets.token_bytes(16)
        digest = _scrypt(data, salt, self.ln, self.r, self.p)
        return f"$scrypt$ln={self.ln},r={self.r},p={self.p}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str | bytes, hashed: str) -> bool:
        """Whether ``password`` matches ``hashed``; False for a malformed hash, never raises."""
        try:
            data = _password_bytes(password)
        except (TypeError, ValueError):
            return False
        if not isinstance(hashed, str):
            return False
        if hashed.startswith("$argon2"):
            return _argon2_verify(self._argon2, hashed, data)
        match = _SCRYPT.fullmatch(hashed)
        if match is None:
            return False
        ln, r, p = int(match["ln"]), int(match["r"]), int(match["p"])
        if not (1 <= ln <= _MAX_LN and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        try:
            salt, expected = _unb64(match["salt"]), _unb64(match["hash"])
        except (binascii.Error, ValueError):
            return False
        if not expected:
            return False
        return hmac.compare_digest(_scrypt(data, salt, ln, r, p, len(expected)), expected)

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with another scheme or weaker/other parameters."""
        if self._argon2 is not None:
            if not hashed.startswith("$argon2"):
                return True
            return bool(self._argon2.check_needs_rehash(hashed))
        match = _SCRYPT.fullmatch(hashed)
        if match is None:
            return True
        return (int(match["ln"]), int(match["r"]), int(match["p"])) != (self.ln, self.r, self.p)


def _scrypt(data: bytes, salt: bytes, ln: int, r: int, p: int, dklen: int = 32) -> bytes:
    n = 1 << ln
    return hashlib.scrypt(
        data, salt=salt, n=n, r=r, p=p, maxmem=n * r * 128 * 2 + 1024 * 1024, dklen=dklen
    )


def _argon2_hasher(options: dict[str, Any]) -> Any:
    try:
        import argon2
    except ImportError:
        raise MissingDependency("argon2-cffi", "crypto") from None
    return argon2.PasswordHasher(**options)


def _argon2_verify(hasher: Any, hashed: str, data: bytes) -> bool:
    try:
        import argon2
    except ImportError:
        raise MissingDependency("argon2-cffi", "crypto") from None
    try:
        return bool((hasher or argon2.PasswordHasher()).verify(hashed, data))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


_default = PasswordHasher()


def hash_password(password: str | bytes) -> str:
    """Hash ``password`` with the default hasher (scrypt, N=2**15, r=8, p=1)."""
    return _default.hash(password)


def verify_password(password: str | bytes, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed`` (constant-time; False on a malformed hash)."""
    return _default.verify(password, hashed)


def needs_rehash(hashed: str) -> bool:
    """Whether ``hashed`` should be replaced by a fresh ``hash_password`` at next login."""
    return _default.needs_rehash(hashed)
