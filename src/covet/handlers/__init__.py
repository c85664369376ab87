"""Typed handlers: parameters, dependency injection, validation and serialisation.

``compile_route(route, app)`` turns an endpoint's signature into a specialised ASGI app
at start-up; ``inspect_route`` describes it for OpenAPI. Users import the markers
(``Query``, ``Body``, ``Depends`` ...) from here or from ``covet``.
"""

from __future__ import annotations

from covet._typing import returns_any

from . import params as _params
from .compiler import compile_route, compile_websocket_route
from .container import Container
from .errors import ResponseValidationError
from .params import Ge, Gt, Le, Lt, MaxLen, MinLen, MultipleOf, Pattern
from .spec import BodyInfo, EndpointSpec, ParamInfo, SecurityInfo, inspect_route
from .validation import compile_validator

# The markers are classes; to type checkers they are callables returning Any, so that
# ``user: User = Depends(current_user)`` and ``limit: int = Query(10)`` type-check.
Body = returns_any(_params.Body)
Cookie = returns_any(_params.Cookie)
Depends = returns_any(_params.Depends)
File = returns_any(_params.File)
Form = returns_any(_params.Form)
Header = returns_any(_params.Header)
Path = returns_any(_params.Path)
Query = returns_any(_params.Query)
Security = returns_any(_params.Security)

__all__ = (
    "Body",
    "BodyInfo",
    "Container",
    "Cookie",
    "Depends",
    "EndpointSpec",
    "File",
    "Form",
    "Ge",
    "Gt",
    "Header",
    "Le",
    "Lt",
    "MaxLen",
    "MinLen",
    "MultipleOf",
    "ParamInfo",
    "Path",
    "Pattern",
    "Query",
    "ResponseValidationError",
    "Security",
    "SecurityInfo",
    "compile_route",
    "compile_validator",
    "compile_websocket_route",
    "inspect_route",
)
