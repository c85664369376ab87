"""Authentication dependencies that document themselves in OpenAPI.

Each is a callable instance for ``Depends``/``Security``: ``await scheme(request)``
returns the credentials, or raises ``HTTPException(401)`` with a ``WWW-Authenticate``
header (``auto_error=False``: returns ``None`` instead). ``security_scheme`` is the
OpenAPI Security Scheme object, ``scheme_name`` its key in ``components.securitySchemes``.

They only *extract* credentials; checking them is the application's job. Compare secrets
in constant time as bytes, ``secrets.compare_digest(given.encode(), expected.encode())``,
never with ``==`` (and never ``compare_digest`` on ``str``: it raises ``TypeError`` for
non-ASCII text, which a client can send to turn a 401 into a 500).
"""

from __future__ import annotations

from covet.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from covet.security.base import SecurityBase
from covet.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from covet.security.oauth2 import OAuth2PasswordBearer

__all__ = (
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "OAuth2PasswordBearer",
    "SecurityBase",
)
