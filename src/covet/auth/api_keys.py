"""API keys: issue, store only a keyed hash, verify in constant time, expire, revoke, scope.

A key reads ``<prefix>_<key id>_<secret>``, e.g. ``sk_live_4xRk2b9QmT1w_<32 characters>``:
the prefix says what the key is for (a secret scanner or a person can tell a live key from
a test key), the key id (12 base62 characters, not secret) finds the record, and the
secret (32 base62 characters, about 190 bits) is what proves possession. Only
``HMAC-SHA256(server secret, key)`` is stored, never the key.

Why not scrypt, as for passwords: a slow hash protects *guessable* secrets from offline
guessing. 190 random bits cannot be guessed at any hash speed, while a slow hash would cost
every authenticated request ~0.1 s of CPU and 32 MiB (a denial-of-service lever). The HMAC
key adds that a stolen table alone cannot even confirm a key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from covet.auth.rbac import check_permission, grants
from covet.exceptions import CovetError, HTTPException
from covet.handlers import Security
from covet.security import HTTPAuthorizationCredentials

__all__ = (
    "APIKeyRecord",
    "APIKeyStore",
    "APIKeys",
    "ExpiredAPIKey",
    "InvalidAPIKey",
    "MemoryAPIKeyStore",
    "RevokedAPIKey",
    "check_changes",
)

_BASE62 = string.digits + string.ascii_letters
KEY_ID_LENGTH = 12
SECRET_LENGTH = 32
MAX_KEY_LENGTH = 128
"""Longer presented keys are refused before any parsing."""
_PREFIX = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_KEY = re.compile(
    rf"(?P<prefix>{_PREFIX.pattern})_(?P<key_id>[0-9A-Za-z]{{{KEY_ID_LENGTH}}})_[0-9A-Za-z]{{{SECRET_LENGTH}}}"
)


class InvalidAPIKey(CovetError):
    """The key is malformed, unknown, or its secret does not match."""

    error_code = "invalid_api_key"


class ExpiredAPIKey(InvalidAPIKey):
    """The key is past its ``expires_at``."""

    error_code = "expired_api_key"


class RevokedAPIKey(InvalidAPIKey):
    """The key was revoked."""

    error_code = "revoked_api_key"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class APIKeyRecord:
    """What is stored about a key (its hash, never the key itself)."""

    key_id: str
    key_hash: str = dataclasses.field(repr=False)
    prefix: str
    principal: str
    name: str = ""
    scopes: tuple[str, ...] = ()
    created_at: datetime = dataclasses.field(default_factory=_utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether ``expires_at`` has passed."""
        return self.expires_at is not None and self.expires_at <= (now or _utcnow())

    def has_scope(self, scope: str) -> bool:
        """Whether the key's scopes (``orders:*`` style patterns allowed) grant ``scope``."""
        return grants(self.scopes, scope)


class APIKeyStore(Protocol):
    """Where records live. ``MemoryAPIKeyStore`` and ``covet.auth.api_keys_orm.ORMAPIKeyStore``."""

    async def add(self, record: APIKeyRecord) -> None:
        """Store a new record (``key_id`` is unique)."""

    async def get(self, key_id: str) -> APIKeyRecord | None:
        """The record of ``key_id``, or None."""

    async def update(self, key_id: str, **changes: Any) -> bool:
        """Set fields of the record; False when there is no such record."""

    async def for_principal(self, principal: str) -> list[APIKeyRecord]:
        """Every record of ``principal``, oldest first."""

    async def delete(self, key_id: str) -> bool:
        """Remove the record; False when there was none."""


class MemoryAPIKeyStore:
    """Records in a dict: one process, lost on restart (tests, prototypes)."""

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: dict[str, APIKeyRecord] = {}

    async def add(self, record: APIKeyRecord) -> None:
        if record.key_id in self._records:
            raise ValueError(f"key id {record.key_id!r} exists")
        self._records[record.key_id] = record

    async def get(self, key_id: str) -> APIKeyRecord | None:
        return self._records.get(key_id)

    async def update(self, key_id: str, **changes: Any) -> bool:
        check_changes(changes)
        record = self._records.get(key_id)
        if record is None:
            return False
        if "scopes" in changes:
            changes["scopes"] = tuple(changes["scopes"])
        self._records[key_id] = dataclasses.replace(record, **changes)
        return True

    async def for_principal(self, principal: str) -> list[APIKeyRecord]:
        found = [r for r in self._records.values() if r.principal == principal]
        return sorted(found, key=lambda r: r.created_at)

    async def delete(self, key_id: str) -> bool:
        return self._records.pop(key_id, None) is not None


_UPDATABLE = frozenset(
    f.name for f in dataclasses.fields(APIKeyRecord) if f.name not in ("key_id", "prefix")
)


def check_changes(changes: Mapping[str, Any]) -> None:
    """ValueError unless ``changes`` names updatable ``APIKeyRecord`` fields (for stores)."""
    bad = sorted(set(changes) - _UPDATABLE)
    if bad:
        raise ValueError(f"cannot update {bad} of an API key record")


def _random(length: int) -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def _secret_bytes(secret: str | bytes) -> bytes:
    data = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(data, bytes) or len(data) < 16:
        raise ValueError("the API key hashing secret must be at least 16 bytes")
    return data


class APIKeys:
    """Issues and checks API keys kept in ``store``.

    ``secret`` keys the stored hashes (keep it out of the database, like a JWT secret);
    ``previous_secrets`` still verify, and a key verified with one is re-hashed with
    ``secret``, so the secret can be rotated. ``prefix`` is put on every key issued and
    required of every key presented. ``last_used_at`` is written at most once per
    ``touch_interval`` per key.
    """

    __slots__ = ("_clock", "_previous", "_secret", "prefix", "store", "touch_interval")

    def __init__(
        self,
        store: APIKeyStore,
        *,
        secret: str | bytes,
        prefix: str = "sk_live",
        previous_secrets: Iterable[str | bytes] = (),
        touch_interval: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not _PREFIX.fullmatch(prefix) or len(prefix) > 32:
            raise ValueError(
                "prefix must be lowercase letters and digits in '_'-separated words (sk_live)"
            )
        self.store = store
        self.prefix = prefix
        self.touch_interval = touch_interval
        self._secret = _secret_bytes(secret)
        self._previous = tuple(_secret_bytes(s) for s in previous_secrets)
        self._clock = clock

    def hash(self, key: str) -> str:
        """The stored form of ``key``: hex HMAC-SHA256 under the current secret."""
        return _hmac(self._secret, key)

    async def create(
        self,
        principal: str,
        *,
        scopes: Sequence[str] = (),
        name: str = "",
        expires_in: timedelta | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[str, APIKeyRecord]:
        """A new key for ``principal``: ``(key, record)``. Show ``key`` once; it is not stored."""
        if not isinstance(principal, str) or not 0 < len(principal) <= 255:
            raise ValueError("principal must be a string of 1 to 255 characters")
        if len(name) > 100:
            raise ValueError("name is limited to 100 characters")
        if isinstance(scopes, str):
            raise TypeError("scopes is a sequence of strings, not a string")
        checked = tuple(dict.fromkeys(check_permission(s, pattern=True) for s in scopes))
        now = self._clock()
        if expires_in is not None:
            if expires_at is not None:
                raise TypeError("give expires_in or expires_at, not both")
            if expires_in <= timedelta(0):
                raise ValueError("expires_in must be positive")
            expires_at = now + expires_in
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        key_id = _random(KEY_ID_LENGTH)
        key = f"{self.prefix}_{key_id}_{_random(SECRET_LENGTH)}"
        record = APIKeyRecord(
            key_id=key_id,
            key_hash=self.hash(key),
            prefix=self.prefix,
            principal=principal,
            name=name,
            scopes=checked,
            created_at=now,
            expires_at=expires_at,
        )
        await self.store.add(record)
        return key, record

    async def verify(self, key: str) -> APIKeyRecord:
        """The record of a valid key; raises ``InvalidAPIKey`` (or its subclasses
        ``ExpiredAPIKey``, ``RevokedAPIKey``, only once the secret has matched)."""
        match = _KEY.fullmatch(key) if isinstance(key, str) and len(key) <= MAX_KEY_LENGTH else None
        if match is None or match["prefix"] != self.prefix:
            raise InvalidAPIKey("Invalid API key")
        record = await self.store.get(match["key_id"])  # the key id is not a secret
        if record is None:
            raise InvalidAPIKey("Invalid API key")
        stored = record.key_hash.encode()
        candidates = [_hmac(s, key) for s in (self._secret, *self._previous)]
        matches = [hmac.compare_digest(c.encode(), stored) for c in candidates]
        if not any(matches):
            raise InvalidAPIKey("Invalid API key")
        now = self._clock()
        if record.revoked_at is not None:
            raise RevokedAPIKey("API key has been revoked")
        if record.is_expired(now):
            raise ExpiredAPIKey("API key has expired")
        changes: dict[str, Any] = {}
        if not matches[0]:
            changes["key_hash"] = candidates[0]  # verified with a previous secret: re-hash
        if record.last_used_at is None or now - record.last_used_at >= self.touch_interval:
            changes["last_used_at"] = now
        if changes:
            await self.store.update(record.key_id, **changes)
            record = dataclasses.replace(record, **changes)
        return record

    async def revoke(self, key_id: str) -> bool:
        """Revoke the key (idempotent: the first revocation time is kept); False if unknown."""
        record = await self.store.get(key_id)
        if record is None:
            return False
        if record.revoked_at is None:
            await self.store.update(key_id, revoked_at=self._clock())
        return True

    async def for_principal(self, principal: str) -> list[APIKeyRecord]:
        """The keys of ``principal`` (revoked and expired ones included), oldest first."""
        return await self.store.for_principal(principal)

    def dependency(
        self, reader: Any, *, scopes: Sequence[str] = ()
    ) -> Callable[..., Awaitable[APIKeyRecord | None]]:
        """A handler dependency: the ``APIKeyRecord`` of the key ``reader`` extracts.

        ``reader`` is a ``covet.security`` scheme (``APIKeyHeader``, ``APIKeyQuery``,
        ``APIKeyCookie``, or ``HTTPBearer`` for ``Authorization: Bearer <key>``). A missing,
        malformed, unknown, expired or revoked key answers 401 with the reader's challenge;
        a valid key without every scope of ``scopes`` answers 403. With the reader's
        ``auto_error=False`` a request without a key gets None. The scopes are listed in
        the OpenAPI requirement of the reader's scheme.
        """
        if isinstance(scopes, str):
            raise TypeError("scopes is a sequence of strings, not a string")
        required = tuple(check_permission(s) for s in scopes)
        challenge = getattr(reader, "challenge", "")
        headers = {"WWW-Authenticate": challenge} if challenge else None

        async def api_key(credential: Any = Security(reader, scopes=list(required))) -> APIKeyRecord | None:
            if credential is None:
                return None
            if isinstance(credential, HTTPAuthorizationCredentials):
                credential = credential.credentials
            try:
                record = await self.verify(credential)
            except InvalidAPIKey as exc:
                raise HTTPException(401, exc.message, headers=headers) from None
            missing = [s for s in required if not grants(record.scopes, s)]
            if missing:
                raise HTTPException(403, f"API key lacks scope: {', '.join(missing)}")
            return record

        return api_key


def _hmac(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
