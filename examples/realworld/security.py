"""Tokens and the ``Authorization: Token <jwt>`` dependencies."""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Annotated

from covet import Depends, HTTPException, Security
from covet.auth import jwt
from covet.security import APIKeyHeader

from .models import User

# Without CONDUIT_SECRET tokens are signed with a random key: they stop working on restart.
SECRET_KEY = os.environ.get("CONDUIT_SECRET") or secrets.token_urlsafe(32)
TOKEN_LIFETIME = timedelta(days=30)
ISSUER = "conduit"

token_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description='A JWT from login or registration, sent as "Token <jwt>".',
    auto_error=False,
)

TokenHeader = Annotated[str | None, Security(token_header)]


def issue_token(user: User) -> str:
    """A signed token naming ``user``."""
    now = datetime.now(timezone.utc)
    claims = {"sub": str(user.id), "iss": ISSUER, "iat": now, "exp": now + TOKEN_LIFETIME}
    return jwt.encode(claims, SECRET_KEY)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Token"})


async def _user_from_header(value: str) -> User:
    scheme, _, token = value.partition(" ")
    if scheme not in ("Token", "Bearer") or not token.strip():
        raise _unauthorized('Authorization must be "Token <jwt>"')
    try:
        claims = jwt.decode(token.strip(), SECRET_KEY, issuer=ISSUER)
    except jwt.ExpiredToken:
        raise _unauthorized("Token has expired") from None
    except jwt.InvalidToken:
        raise _unauthorized("Invalid token") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdigit():
        raise _unauthorized("Invalid token")
    user = await User.objects.filter(id=int(subject)).first()
    if user is None:
        raise _unauthorized("The account of this token no longer exists")
    return user


async def current_user(authorization: TokenHeader) -> User:
    """The signed-in user; 401 without a valid token."""
    if authorization is None:
        raise _unauthorized("Authentication required")
    return await _user_from_header(authorization)


async def optional_user(authorization: TokenHeader) -> User | None:
    """The signed-in user, or None for an anonymous request (a bad token is still a 401)."""
    if authorization is None:
        return None
    return await _user_from_header(authorization)


CurrentUser = Annotated[User, Depends(current_user)]
"""A handler parameter of this type receives the signed-in user (401 without one)."""
OptionalUser = Annotated[User | None, Depends(optional_user)]
"""The signed-in user or None."""
