"""Typed handlers: parameters, dependency injection, validation and serialisation.

``compile_route(route, app)`` turns an endpoint's signature into a specialised ASGI app
at start-up; ``inspect_route`` describes it for OpenAPI. Users import the markers
(``Query``, ``Body``, ``Depends`` ...) from here or from ``covet``.
"""

from __future__ import annotations

from .compiler import compile_route, compile_websocket_route
from .container import Container
from .errors import ResponseValidationError
from .params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Ge,
    Gt,
    Header,
    Le,
    Lt,
    MaxLen,
    MinLen,
    MultipleOf,
    Path,
    Pattern,
    Query,
    Security,
)
from .spec import BodyInfo, EndpointSpec, ParamInfo, SecurityInfo, inspect_route
from .validation import compile_validator

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
