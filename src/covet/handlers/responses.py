"""Turning an endpoint's return value into a response, with the response model applied.

``build_responder`` runs at start-up and returns ``respond(result, scope, receive, send,
background)``. JSON results are encoded once and sent with two ASGI messages directly
(no Response object on the hot path); ``Response`` instances pass through untouched.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import inspect
import sys
import typing
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, get_args

from covet import _json
from covet._types import Receive, Scope, Send
from covet.background import BackgroundTasks
from covet.http.response import JSONResponse, Response

from .errors import MISSING, Invalid, ResponseValidationError, render_details
from .typeinfo import (
    foreign_kind,
    generic_origin,
    involves_foreign,
    is_typeddict,
    unwrap_annotated,
    unwrap_optional,
)
from .validation import compile_validator

__all__ = ("Responder", "build_responder", "resolve_response_model")

Responder = Callable[[Any, Scope, Receive, Send, "BackgroundTasks | None"], Awaitable[None]]

_JSON_CT = (b"content-type", b"application/json")
_PASSTHROUGH = (datetime.datetime, datetime.date, datetime.time, uuid.UUID, decimal.Decimal)
_NO_BODY = frozenset({204, 205, 304})


def _is_model(tp: Any) -> bool:
    """Whether ``tp`` is or contains a model type whose fields filter the output."""
    tp, _ = unwrap_annotated(tp)
    if foreign_kind(tp) is not None or is_typeddict(tp) or generic_origin(tp) is not None:
        return True
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return True
        if tp.__module__ != "builtins" and not issubclass(tp, Response) and _annotated(tp):
            return True
    return any(_is_model(a) for a in get_args(tp) if a is not Ellipsis)


def _stdlib_struct_inside(tp: Any) -> bool:
    """Whether a stdlib struct (dataclass, TypedDict, annotated class) is part of ``tp``."""
    tp, _ = unwrap_annotated(tp)
    if foreign_kind(tp) is not None:
        return False
    if generic_origin(tp) is not None or is_typeddict(tp):
        return True
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or (tp.__module__ != "builtins" and _annotated(tp))
    ):
        return True
    return any(_stdlib_struct_inside(a) for a in get_args(tp) if a is not Ellipsis)


def _annotated(tp: type) -> bool:
    try:
        return bool(typing.get_type_hints(tp))
    except Exception:
        return False


def resolve_response_model(route: Any, return_annotation: Any) -> Any:
    """The effective response model: explicit on the route, else the return annotation."""
    model = getattr(route, "response_model", ...)
    if model is ...:
        model = None if return_annotation is MISSING else return_annotation
    if model is None or model is inspect.Parameter.empty or model is typing.Any:
        return None
    base, _ = unwrap_optional(unwrap_annotated(model)[0])
    if isinstance(base, type) and issubclass(base, Response):
        return None
    return model if _is_model(model) else None


def _model_serializer(model: Any, endpoint: str) -> Callable[[Any], bytes]:
    base = unwrap_optional(unwrap_annotated(model)[0])[0]
    kind = foreign_kind(base)
    if kind is None and not _stdlib_struct_inside(model):
        # list[Model], dict[str, Model]: the model system serialises the whole value; a
        # stdlib struct anywhere (Page[Model]) needs covet's validator, which filters it
        for k in ("pydantic", "msgspec"):
            if involves_foreign(model, k):
                kind = k
                break
    if kind is not None:
        from .foreign import serializer

        inner = serializer(model, kind)
    else:
        validate = compile_validator(model, from_attributes=True)
        dumps = _json.dumps

        def inner(value: Any) -> bytes:
            return dumps(validate(value))

    def serialize(value: Any) -> bytes:
        try:
            return inner(value)
        except Invalid as exc:
            raise ResponseValidationError(endpoint, render_details("response", exc.errors)) from None

    return serialize


def _plain_fallback(value: Any, dumps: Callable[[Any], bytes]) -> bytes:
    """Encode what ``_json.dumps`` refused: msgspec Structs, pydantic models, nested Structs."""
    kind = foreign_kind(type(value))
    if kind == "msgspec":
        return sys.modules["msgspec"].json.encode(value)
    if kind == "pydantic":
        return value.__pydantic_serializer__.to_json(value)
    ms = sys.modules.get("msgspec")
    if ms is None:
        return dumps(value)  # re-raise the original TypeError
    # msgspec Structs nested in plain data: lower them to builtins, keep the rest
    return dumps(ms.to_builtins(value, builtin_types=_PASSTHROUGH, enc_hook=_json.default))


def build_responder(route: Any, return_annotation: Any, endpoint_name: str) -> Responder:
    """Compile the conversion of return values for ``route``."""
    _json.backend()  # resolve the JSON backend now, so the bound ``dumps`` is the final one
    dumps = _json.dumps
    model = resolve_response_model(route, return_annotation)
    serialize = _model_serializer(model, endpoint_name) if model is not None else None
    status = getattr(route, "status_code", None) or 200
    status_bytes_ok = status not in _NO_BODY and status >= 200
    response_class = getattr(route, "response_class", None)
    if response_class is JSONResponse:
        response_class = None
    direct = response_class is None and status_bytes_ok

    async def respond(
        result: Any, scope: Scope, receive: Receive, send: Send, background: BackgroundTasks | None
    ) -> None:
        if direct and (
            type(result) is dict
            or type(result) is list
            or (serialize is not None and not isinstance(result, Response))
        ):
            # the hot path: JSON encoded once, two ASGI messages, no Response object
            if serialize is None:
                try:
                    body = dumps(result)
                except TypeError:
                    body = _plain_fallback(result, dumps)
            else:
                body = serialize(result)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-length", b"%d" % len(body)), _JSON_CT],
                }
            )
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            if background is not None and background.tasks:
                await background()
            return
        if isinstance(result, Response):
            if background is not None and background.tasks:
                if result.background is None:
                    result.background = background
                else:
                    result.background = BackgroundTasks([result.background, background])
            await result(scope, receive, send)
            return
        if response_class is not None:
            resp = response_class(result, status_code=status)
            if background is not None and background.tasks:
                resp.background = background
            await resp(scope, receive, send)
            return
        if status_bytes_ok:
            try:
                body = dumps(result)
            except TypeError:
                body = _plain_fallback(result, dumps)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-length", b"%d" % len(body)), _JSON_CT],
                }
            )
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        else:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        if background is not None and background.tasks:
            await background()

    return respond
