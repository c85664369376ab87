"""Who may do what: customers carry a bearer token, the catalogue team an API key."""

from __future__ import annotations

import hashlib
import hmac
import os

from covet import HTTPException, Security
from covet.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from .models import Customer
from .store import store

ADMIN_KEY = os.environ.get("SHOP_ADMIN_KEY", "change-me")

admin_key = APIKeyHeader(
    name="X-API-Key", scheme_name="adminKey", description="Key of the catalogue team."
)
customer_token = HTTPBearer(
    scheme_name="customerToken", description="Token from sign-up or POST /auth/token."
)


async def require_admin(key: str = Security(admin_key)) -> None:
    """Let the catalogue team through (constant-time comparison of the key)."""
    if not hmac.compare_digest(key.encode(), ADMIN_KEY.encode()):
        raise HTTPException(401, "Invalid API key", headers={"WWW-Authenticate": "APIKey"})


async def current_customer(
    credentials: HTTPAuthorizationCredentials = Security(customer_token),
) -> Customer:
    """The customer the bearer token belongs to."""
    customer = store.customer_for_token(credentials.credentials)
    if customer is None:
        raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return customer


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt (stdlib) with a per-account salt."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
