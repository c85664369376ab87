"""Cookie parsing (browser-tolerant) and ``Set-Cookie`` building (strict, RFC 6265).

Parsing accepts what browsers actually send. Building refuses anything that could
inject another attribute or header: a name must be an RFC 6265 token and a value must
consist of cookie-octets (optionally wrapped in double quotes). Arbitrary data has no
RFC 6265 encoding, so encode it yourself first (base64url or percent-encoding).
"""

from __future__ import annotations

import datetime
import email.utils
import re
import time
from typing import Literal

__all__ = ("build_set_cookie", "parse_cookie_header")

# RFC 6265 4.1.1 / RFC 9110 token: no CTLs, separators or spaces.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
_COOKIE_VALUE = re.compile(
    r'[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"'
)
_DOMAIN = re.compile(
    r"\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
# path-value = <any CHAR except CTLs or ";">; "," refused too (header folding).
_PATH = re.compile(r"/[\x20-\x2B\x2D-\x3A\x3C-\x7E]*")
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header into ``{name: value}``.

    Tolerant like browsers: pieces without ``=`` are taken as a value with an empty
    name, surrounding spaces and double quotes are stripped, the first occurrence of a
    name wins (browsers send the most specific cookie first). Never raises.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            key, _, value = chunk.partition("=")
        else:
            key, value = "", chunk
        key = key.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if (key or value) and key not in cookies:
            cookies[key] = value
    return cookies


def _format_expires(expires: datetime.datetime | str | int) -> str:
    if isinstance(expires, bool):
        raise ValueError("Cookie expires must be a datetime, a number of seconds or a date string")
    if isinstance(expires, int):
        return email.utils.formatdate(time.time() + expires, usegmt=True)
    if isinstance(expires, datetime.datetime):
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        return email.utils.format_datetime(expires.astimezone(datetime.timezone.utc), usegmt=True)
    if isinstance(expires, str) and ";" not in expires:
        # An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT": note the comma), re-emitted in
        # canonical form so nothing else can ride along in the attribute.
        try:
            parsed = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            return _format_expires(parsed)
    raise ValueError(f"Invalid cookie expires: {expires!r}")


def build_set_cookie(
    key: str,
    value: str = "",
    max_age: int | None = None,
    expires: datetime.datetime | str | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: Literal["lax", "strict", "none"] | None = "lax",
    partitioned: bool = False,
) -> str:
    """Return a ``Set-Cookie`` header value, validating every part.

    Raises ``ValueError`` for a name that is not a token, a value with characters
    outside RFC 6265 cookie-octets (space, ``"``, ``,``, ``;``, ``\\``, CTLs, non-ASCII),
    an invalid domain, path or expires, ``SameSite=None`` or ``Partitioned`` without
    ``secure``, and ``__Secure-``/``__Host-`` prefixes whose rules are not met.
    """
    if not isinstance(key, str) or not _TOKEN.fullmatch(key):
        raise ValueError(f"Invalid cookie name {key!r}: it must be an RFC 6265 token")
    if not isinstance(value, str) or not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(
            f"Invalid cookie value {value!r}: only RFC 6265 cookie-octets are allowed "
            "(no spaces, quotes, commas, semicolons, backslashes, control or non-ASCII "
            "characters); encode arbitrary data with base64url or percent-encoding"
        )
    parts = [f"{key}={value}"]
    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise ValueError(f"Cookie max_age must be an integer, got {max_age!r}")
        parts.append(f"Max-Age={max_age}")
    if expires is not None:
        parts.append(f"Expires={_format_expires(expires)}")
    if domain is not None:
        if not _DOMAIN.fullmatch(domain) or len(domain) > 253:
            raise ValueError(f"Invalid cookie domain: {domain!r}")
        parts.append(f"Domain={domain}")
    if path is not None:
        if not _PATH.fullmatch(path):
            raise ValueError(
                f"Invalid cookie path {path!r}: it must start with '/' and contain no "
                "control characters, ';' or ','"
            )
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        canonical = _SAMESITE.get(str(samesite).lower())
        if canonical is None:
            raise ValueError(
                f"Cookie samesite must be 'lax', 'strict', 'none' or None, got {samesite!r}"
            )
        if canonical == "None" and not secure:
            raise ValueError("SameSite=None requires secure=True (browsers drop the cookie)")
        parts.append(f"SameSite={canonical}")
    if partitioned:
        if not secure:
            raise ValueError("Partitioned cookies require secure=True")
        parts.append("Partitioned")
    if key.startswith("__Secure-") and not secure:
        raise ValueError("Cookies named '__Secure-...' require secure=True")
    if key.startswith("__Host-") and (not secure or domain is not None or path != "/"):
        raise ValueError("Cookies named '__Host-...' require secure=True, path='/' and no domain")
    return "; ".join(parts)
