"""HMAC-SHA256 signing of small values with timestamps and key rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from covet import _json
from covet.exceptions import ImproperlyConfigured

__all__ = ("MIN_SECRET_LENGTH", "SecretKey", "Signer", "b64decode", "b64encode")

MIN_SECRET_LENGTH = 16
SecretKey = str | bytes | Sequence[str | bytes]


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding (cookie-safe)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Inverse of :func:`b64encode`; raises ``ValueError`` on malformed input."""
    if not text.isascii():
        raise ValueError("non-ASCII base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("malformed base64") from exc


def _keys(secret_key: SecretKey) -> list[bytes]:
    items = [secret_key] if isinstance(secret_key, (str, bytes)) else list(secret_key)
    if not items:
        raise ImproperlyConfigured("secret_key must not be empty")
    keys: list[bytes] = []
    for item in items:
        key = item.encode("utf-8") if isinstance(item, str) else item
        if not isinstance(key, bytes) or len(key) < MIN_SECRET_LENGTH:
            raise ImproperlyConfigured(
                f"each secret key must be at least {MIN_SECRET_LENGTH} bytes "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        keys.append(key)
    return keys


class Signer:
    """Sign and verify values with HMAC-SHA256.

    ``secret_key`` may be a list for key rotation: the FIRST key signs, every key
    verifies. ``salt`` separates purposes (a session cookie cannot be replayed as a CSRF
    token): each key is derived as ``HMAC(secret, "covet.signing:" + salt)``.
    Tokens look like ``<base64url payload>.<base64url mac>``.
    """

    __slots__ = ("_macs",)

    def __init__(self, secret_key: SecretKey, salt: str = "covet") -> None:
        label = b"covet.signing:" + salt.encode("utf-8")
        derived = [hmac.new(key, label, hashlib.sha256).digest() for key in _keys(secret_key)]
        # Keyed HMAC states, copied per use: cheaper than re-keying on every call.
        self._macs = [hmac.new(key, digestmod=hashlib.sha256) for key in derived]

    @staticmethod
    def _mac(keyed: hmac.HMAC, payload: bytes) -> bytes:
        mac = keyed.copy()
        mac.update(payload)
        return mac.digest()

    def sign(self, value: bytes) -> str:
        """``value`` encoded with its signature by the newest key."""
        payload = b64encode(value)
        return payload + "." + b64encode(self._mac(self._macs[0], payload.encode("ascii")))

    def unsign(self, token: str) -> bytes | None:
        """The signed value, or ``None`` when the token is malformed or forged."""
        payload, sep, signature = token.rpartition(".")
        if not sep or not payload or len(token) > 1 << 16:
            return None
        try:
            mac = b64decode(signature)
            value = b64decode(payload)
        except ValueError:
            return None
        raw = payload.encode("ascii")
        for keyed in self._macs:
            if hmac.compare_digest(mac, self._mac(keyed, raw)):
                return value
        return None

    def dumps(self, obj: Any) -> str:
        """Sign ``obj`` as compact JSON together with the current time."""
        return self.sign(_json.dumps({"t": int(time.time()), "d": obj}))

    def loads(self, token: str, max_age: int | None = None) -> Any:
        """The object signed by :meth:`dumps`, or ``None`` if forged, malformed or older
        than ``max_age`` seconds (or dated in the future)."""
        value = self.unsign(token)
        if value is None:
            return None
        try:
            envelope = _json.loads(value)
        except ValueError:
            return None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("t"), int) or "d" not in envelope:
            return None
        age = time.time() - envelope["t"]
        if age < -60 or (max_age is not None and age > max_age):
            return None
        return envelope["d"]
