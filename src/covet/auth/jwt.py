"""JSON Web Tokens (RFC 7519), signed with HMAC (HS256/384/512) from the stdlib.

RS256 and ES256 are available when ``cryptography`` is installed (``covetpy[crypto]``).
Decoding is strict: the algorithm must be one the caller allows (``none`` never is),
segments must be canonical base64url, and ``exp``/``nbf``/``iat``/``aud``/``iss`` are
checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from covet.exceptions import CovetError

__all__ = ("MAX_TOKEN_LENGTH", "ExpiredToken", "InvalidToken", "decode", "encode")

MAX_TOKEN_LENGTH = 16 * 1024
"""Tokens longer than this are rejected before any parsing (they come in headers)."""

_HMAC: dict[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_ASYMMETRIC = frozenset({"RS256", "ES256"})
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


class InvalidToken(CovetError):
    """The token is malformed, badly signed, or fails a claim check."""

    error_code = "invalid_token"


class ExpiredToken(InvalidToken):
    """The token's ``exp`` is in the past."""

    error_code = "expired_token"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("Token segment is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("Token segment is not base64url") from None
    if _b64encode(raw) != segment:  # non-canonical trailing bits: same bytes, other token
        raise InvalidToken("Token segment is not canonical base64url")
    return raw


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidToken(f"Token {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"Token {what} is not a JSON object")
    return value


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise InvalidToken("An HMAC key must be non-empty str or bytes")
    if key.lstrip().startswith(b"-----BEGIN") or key.startswith(b"ssh-"):
        # A public key used as an HMAC secret is the classic algorithm-confusion attack.
        raise InvalidToken("A PEM/SSH key cannot be used as an HMAC secret")
    return key


def _sign(algorithm: str, signing_input: bytes, key: Any) -> bytes:
    if algorithm in _HMAC:
        return hmac.new(_key_bytes(key), signing_input, _HMAC[algorithm]).digest()
    if algorithm in _ASYMMETRIC:
        from covet.auth import _asymmetric

        return _asymmetric.sign(algorithm, signing_input, key)
    raise InvalidToken(f"Unsupported algorithm {algorithm!r}")


def _verify(algorithm: str, signing_input: bytes, signature: bytes, key: Any) -> bool:
    if algorithm in _HMAC:
        expected = hmac.new(_key_bytes(key), signing_input, _HMAC[algorithm]).digest()
        return hmac.compare_digest(expected, signature)
    if algorithm in _ASYMMETRIC:
        from covet.auth import _asymmetric

        return _asymmetric.verify(algorithm, signing_input, signature, key)
    return False


def encode(
    payload: Mapping[str, Any],
    key: Any,
    algorithm: str = "HS256",
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``payload`` and return the compact token.

    ``key`` is the shared secret (str or bytes) for HS*, a private key (PEM or a
    ``cryptography`` key object) for RS256/ES256. ``datetime`` values of ``exp``,
    ``nbf`` and ``iat`` become Unix timestamps.
    """
    if algorithm not in _HMAC and algorithm not in _ASYMMETRIC:
        raise InvalidToken(f"Unsupported algorithm {algorithm!r}")
    header = {"alg": algorithm, "typ": "JWT", **(headers or {})}
    header["alg"] = algorithm
    claims = dict(payload)
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if isinstance(value, datetime):
            claims[name] = int(value.timestamp())
    segments = [
        _b64encode(json.dumps(header, separators=(",", ":")).encode()),
        _b64encode(json.dumps(claims, separators=(",", ":"), default=str).encode()),
    ]
    signing_input = ".".join(segments).encode("ascii")
    segments.append(_b64encode(_sign(algorithm, signing_input, key)))
    return ".".join(segments)


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidToken(f"Claim {name!r} must be a number")
    return float(value)


def _check_claims(
    claims: Mapping[str, Any],
    audience: str | Iterable[str] | None,
    issuer: str | Iterable[str] | None,
    leeway: float,
) -> None:
    now = time.time()
    exp = _numeric(claims, "exp")
    if exp is not None and now - leeway >= exp:
        raise ExpiredToken("Token has expired")
    nbf = _numeric(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise InvalidToken("Token is not valid yet")
    iat = _numeric(claims, "iat")
    if iat is not None and now + leeway < iat:
        raise InvalidToken("Token was issued in the future")
    if audience is not None:
        wanted = {audience} if isinstance(audience, str) else set(audience)
        aud = claims.get("aud")
        given = [aud] if isinstance(aud, str) else aud
        if not isinstance(given, list) or not all(isinstance(a, str) for a in given):
            raise InvalidToken("Token has no valid audience")
        if wanted.isdisjoint(given):
            raise InvalidToken("Token audience does not match")
    elif "aud" in claims:
        raise InvalidToken("Token has an audience but none was expected")
    if issuer is not None:
        allowed = {issuer} if isinstance(issuer, str) else set(issuer)
        if claims.get("iss") not in allowed:
            raise InvalidToken("Token issuer does not match")


def decode(
    token: str | bytes,
    key: Any,
    algorithms: Iterable[str] = ("HS256",),
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    leeway: float = 0,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims.

    Raises ``ExpiredToken`` when ``exp`` has passed (beyond ``leeway`` seconds) and
    ``InvalidToken`` for everything else: a header ``alg`` not in ``algorithms``, a bad
    signature, malformed segments, a future ``nbf``/``iat``, a wrong ``aud``/``iss``.
    """
    allowed = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    if not allowed:
        raise InvalidToken("No algorithm allowed")
    for name in allowed:
        if name not in _HMAC and name not in _ASYMMETRIC:
            raise InvalidToken(f"Unsupported algorithm {name!r}")
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken("Token is not ASCII") from None
    if not isinstance(token, str):
        raise InvalidToken("Token must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("Token is too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken("Token must have three non-empty segments")
    header = _json(_b64decode(parts[0]), "header")
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in allowed:
        raise InvalidToken(f"Token algorithm {algorithm!r} is not allowed")
    if "crit" in header:
        raise InvalidToken("Token has critical header extensions")
    signature = _b64decode(parts[2])
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    if not _verify(algorithm, signing_input, signature, key):
        raise InvalidToken("Token signature is invalid")
    claims = _json(_b64decode(parts[1]), "payload")
    _check_claims(claims, audience, issuer, leeway)
    return claims
