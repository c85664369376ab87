"""``compile_route`` / ``compile_websocket_route``: a route becomes one specialised ASGI app.

Shapes are specialised at start-up: an endpoint without dependencies or injected objects
runs through a short path (path params from the scope, a hand-split query string, the
body read straight from ``receive`` and decoded by the type's fastest decoder); anything
else runs the general path (dependencies, caching, cleanup after the response).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.background import BackgroundTasks
from covet.concurrency import run_in_threadpool
from covet.exceptions import ValidationError, WebSocketException
from covet.http.request import Request
from covet.http.response import Response

from .errors import MISSING, Invalid, render_details
from .extract import check_json_type, extract_params, read_body
from .jsonbody import BadJSON, loads_limited
from .plan import Plan, Slot, build_plan
from .responses import Responder, build_responder
from .typeinfo import is_scalar

__all__ = ("compile_route", "compile_websocket_route")

_OVERRIDE_CACHE_SIZE = 64


def compile_route(route: Any, app: Any) -> ASGIApp:
    """Analyse ``route.endpoint`` once and return the ASGI app that serves it."""
    plan = build_plan(route, app)
    respond = build_responder(route, plan.endpoint.return_annotation, plan.endpoint.name)
    base = _fast_app(plan, respond) if _is_simple(plan) else _general_app(plan, respond, app)
    return _with_overrides(route, app, plan, base, False)


def compile_websocket_route(route: Any, app: Any) -> ASGIApp:
    """The ASGI app for a websocket route, injecting ``WebSocket``, params and dependencies."""
    plan = build_plan(route, app, websocket=True)
    return _with_overrides(route, app, plan, _websocket_app(plan, app), True)


def _with_overrides(route: Any, app: Any, plan: Plan, base: ASGIApp, ws: bool) -> ASGIApp:
    """``base``, or a wrapper that serves through a re-planned app while overrides are set."""
    if not hasattr(app, "dependency_overrides") or len(plan.slots) == 1:
        return base  # no dependency anywhere: overrides cannot change anything
    cache: dict[Any, ASGIApp] = {}

    async def with_overrides(scope: Scope, receive: Receive, send: Send) -> None:
        overrides = app.dependency_overrides
        if overrides:
            await _overridden(route, app, overrides, cache, ws)(scope, receive, send)
        else:
            await base(scope, receive, send)

    return with_overrides


def _overridden(route: Any, app: Any, overrides: dict[Any, Any], cache: dict[Any, ASGIApp], ws: bool) -> ASGIApp:
    try:
        key: Any = tuple(overrides.items())
        hit = cache.get(key)
    except TypeError:
        key, hit = None, None
    if hit is not None:
        return hit
    plan = build_plan(route, app, websocket=ws, overrides=overrides)
    if ws:
        built = _websocket_app(plan, app)
    else:
        respond = build_responder(route, plan.endpoint.return_annotation, plan.endpoint.name)
        built = _general_app(plan, respond, app)
    if key is not None:
        if len(cache) >= _OVERRIDE_CACHE_SIZE:
            cache.clear()
        cache[key] = built
    return built


def _is_simple(plan: Plan) -> bool:
    slot = plan.slots[-1]
    return (
        len(plan.slots) == 1
        and not slot.specials
        and not slot.services
        and slot.kind in ("async", "sync")
        and plan.body_mode in ("none", "whole")
    )


# --- the short path --------------------------------------------------------------------


def _fast_app(plan: Plan, respond: Responder) -> ASGIApp:
    slot = plan.slots[0]
    call = slot.call
    is_async = slot.kind == "async"
    params = slot.params
    body_field = plan.body_fields[0] if plan.body_mode == "whole" else None

    if not params and body_field is None:

        async def no_params(scope: Scope, receive: Receive, send: Send) -> None:
            result = await call() if is_async else await run_in_threadpool(call)
            await respond(result, scope, receive, send, None)

        return no_params

    if body_field is None and len(params) == 1 and params[0].location == "path" and params[0].fast_type:
        only = params[0]
        pname, alias, tp = only.name, only.alias, only.fast_type

        async def one_path_param(scope: Scope, receive: Receive, send: Send) -> None:
            value = scope["path_params"].get(alias)
            if type(value) is not tp:  # the convertor gave another type: validate it
                kwargs: dict[str, Any] = {}
                errors = extract_params(params, scope, kwargs, {}, None)
                if errors:
                    raise ValidationError(errors)
                value = kwargs[pname]
            if is_async:
                result = await call(**{pname: value})
            else:
                result = await run_in_threadpool(call, **{pname: value})
            await respond(result, scope, receive, send, None)

        return one_path_param

    if body_field is None and all(p.location == "path" and p.fast_type for p in params):
        names = [(p.name, p.alias, p.fast_type) for p in params]

        async def path_only(scope: Scope, receive: Receive, send: Send) -> None:
            pp = scope["path_params"]
            kwargs: dict[str, Any] = {}
            for pname, alias, tp in names:
                value = pp.get(alias)
                if type(value) is not tp:  # convertor gave another type: validate them all
                    kwargs = {}
                    errors = extract_params(params, scope, kwargs, {}, None)
                    if errors:
                        raise ValidationError(errors)
                    break
                kwargs[pname] = value
            result = await call(**kwargs) if is_async else await run_in_threadpool(call, **kwargs)
            await respond(result, scope, receive, send, None)

        return path_only

    if body_field is None:

        async def params_only(scope: Scope, receive: Receive, send: Send) -> None:
            kwargs: dict[str, Any] = {}
            errors = extract_params(params, scope, kwargs, {}, None)
            if errors:
                raise ValidationError(errors)
            result = await call(**kwargs) if is_async else await run_in_threadpool(call, **kwargs)
            await respond(result, scope, receive, send, None)

        return params_only

    max_body = plan.max_body
    step = _body_step(plan)

    async def with_body(scope: Scope, receive: Receive, send: Send) -> None:
        kwargs: dict[str, Any] = {}
        errors = extract_params(params, scope, kwargs, {}, None) if params else None
        errors = step(await read_body(scope, receive, max_body, json=True), kwargs, errors)
        if errors:
            raise ValidationError(errors)
        result = await call(**kwargs) if is_async else await run_in_threadpool(call, **kwargs)
        await respond(result, scope, receive, send, None)

    return with_body


BodyStep = Callable[[bytes, dict[str, Any], "list[dict[str, Any]] | None"], "list[dict[str, Any]] | None"]


def _body_step(plan: Plan) -> BodyStep:
    """Decode + validate a whole body into ``kwargs[name]`` with everything bound locally."""
    field = plan.body_fields[0]
    name, required, default = field.name, field.required, field.default
    decode = plan.body_decoder
    native = plan.body_errors
    convert = plan.body_convert
    assert decode is not None

    def step(body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if not body:
            if required:
                return [*(errors or []), {"field": "body", "message": "Field required", "code": "missing"}]
            kwargs[name] = default
            return errors
        try:
            kwargs[name] = decode(body)
        except Invalid as exc:
            errors = (errors or []) + render_details("body", exc.errors)
        except native as exc:
            assert convert is not None
            converted = convert(exc, body)
            if not isinstance(converted, Invalid):
                raise converted from None
            errors = (errors or []) + render_details("body", converted.errors)
        except RecursionError:
            raise BadJSON("JSON body is nested too deeply") from None
        return errors

    return step


# --- the general path ------------------------------------------------------------------


async def _read_bodies(
    plan: Plan,
    step: BodyStep | None,
    scope: Scope,
    receive: Receive,
    request: Request | None,
    values: dict[Any, Any],
    errors: list[dict[str, Any]] | None,
) -> list[dict[str, Any]] | None:
    mode = plan.body_mode
    if mode == "form":
        assert request is not None
        return await _read_form(plan, request, values, errors)
    body = await request.body() if request is not None else await read_body(scope, receive, plan.max_body)
    if step is not None:  # whole-body mode
        field = plan.body_fields[0]
        kw: dict[str, Any] = {}
        if body:
            check_json_type(scope)
        errors = step(body, kw, errors)
        if field.name in kw:
            values[field] = kw[field.name]
        return errors
    if not body:
        data: Any = {}
    else:
        check_json_type(scope)
        data = loads_limited(body, plan.max_depth)
    if not isinstance(data, dict):
        return [*(errors or []), {"field": "body", "message": "Expected an object", "code": "type_error"}]
    for f in plan.body_fields:
        raw = data.get(f.alias, MISSING)
        if raw is MISSING:
            if f.required:
                errors = errors or []
                errors.append({"field": f"body.{f.alias}", "message": "Field required", "code": "missing"})
            else:
                values[f] = f.default
            continue
        try:
            values[f] = f.validator(raw)
        except Invalid as exc:
            errors = (errors or []) + render_details(f"body.{f.alias}", exc.errors)
        except RecursionError:
            raise BadJSON("JSON body is nested too deeply") from None
    return errors


async def _read_form(
    plan: Plan, request: Request, values: dict[Any, Any], errors: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    form = await request.form()
    for f in plan.body_fields:
        loc = f"body.{f.alias}"
        if f.location == "form" and not f.multi and f.alias not in form and not is_scalar(f.annotation):
            raw: Any = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        elif f.multi:
            raw = form.getlist(f.alias) or MISSING
        else:
            raw = form.get(f.alias, MISSING)
        if raw is MISSING:
            if f.required:
                errors = errors or []
                errors.append({"field": loc, "message": "Field required", "code": "missing"})
            else:
                values[f] = f.default
            continue
        try:
            if f.location == "file":
                items = raw if f.multi else [raw]
                checked = [f.validator(x) for x in items]
                if getattr(f.validator, "read_bytes", False):
                    checked = [await x.read() for x in checked]
                values[f] = checked if f.multi else checked[0]
            else:
                values[f] = f.validator(raw)
        except Invalid as exc:
            errors = (errors or []) + render_details(loc, exc.errors)
    return errors


def _general_app(plan: Plan, respond: Responder, app: Any) -> ASGIApp:
    needs_request = plan.needs_request
    has_body = plan.body_mode != "none"
    wants_background = "background" in plan.special_kinds
    wants_response = "response" in plan.special_kinds
    default_status = plan.status_code
    is_form = plan.body_mode == "form"
    step = _body_step(plan) if plan.body_mode == "whole" else None
    container: Any = getattr(app, "container", None)
    needs_stack = is_form or any(s.services or s.kind in ("asyncgen", "gen") for s in plan.slots)
    extract_steps = [(s.params, s.body_params) for s in plan.slots]
    call_steps = [
        # plain coroutine functions are awaited inline, the others through their caller
        (s.dep_args, s.specials, s.services, s.call if s.kind == "async" else None, _caller(s))
        for s in plan.slots
    ]

    async def general(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send) if needs_request else None
        errors = None
        body_values: dict[Any, Any] = {}
        if has_body:
            errors = await _read_bodies(plan, step, scope, receive, request, body_values, errors)
        cache: dict[str, Any] = {}
        all_kwargs = []
        for params, body_params in extract_steps:
            kw: dict[str, Any] = {}
            if params:
                errors = extract_params(params, scope, kw, cache, errors)
            for f in body_params:
                if f in body_values:
                    kw[f.name] = body_values[f]
            all_kwargs.append(kw)
        if errors:
            raise ValidationError(errors)
        background = BackgroundTasks() if wants_background else None
        template = _response_template(default_status) if wants_response else None
        stack = contextlib.AsyncExitStack() if needs_stack else None
        if is_form and request is not None and stack is not None:
            stack.push_async_callback(request.close)
        results: list[Any] = []
        try:
            for (dep_args, specials, services, direct, caller), kw in zip(call_steps, all_kwargs):  # noqa: B905
                if dep_args:
                    for pname, index in dep_args:
                        kw[pname] = results[index]
                if specials:
                    for pname, kind in specials:
                        kw[pname] = (
                            background if kind == "background" else template if kind == "response" else request
                        )
                if services:
                    for pname, tp in services:
                        kw[pname] = await container.resolve(tp, stack)
                results.append(await direct(**kw) if direct is not None else await caller(kw, stack))
            result = results[-1]
            if template is not None:
                send = _merging_send(send, template, default_status, isinstance(result, Response))
            await respond(result, scope, receive, send, background)
        except BaseException as exc:
            if stack is not None:
                await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        if stack is not None:
            await stack.aclose()

    return general


_NO_BODY_STATUS = frozenset({204, 205, 304})


def _response_template(status: int) -> Response:
    """The ``response: Response`` a handler may take to set headers, cookies or the status."""
    template = Response(status_code=status)
    template.raw_headers = []
    return template


def _merging_send(send: Send, template: Response, default_status: int, returned_response: bool) -> Send:
    """Apply the injected response's headers (and changed status) to what is sent."""
    final_status = default_status

    async def merged(message: Message) -> None:
        nonlocal final_status
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            status = message["status"]
            if not returned_response and template.status_code != default_status:
                status = template.status_code
                if status in _NO_BODY_STATUS or status < 200:
                    headers = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
            message = {**message, "status": status, "headers": [*headers, *template.raw_headers]}
            final_status = status
        elif message["type"] == "http.response.body" and (final_status in _NO_BODY_STATUS or final_status < 200):
            message = {**message, "body": b""}
        await send(message)

    return merged


Caller = Callable[[dict[str, Any], "contextlib.AsyncExitStack | None"], Awaitable[Any]]


def _caller(slot: Slot) -> Caller:
    call, kind = slot.call, slot.kind
    if kind == "async":

        async def call_async(kw: dict[str, Any], stack: Any) -> Any:
            return await call(**kw)

        return call_async
    if kind == "class":

        async def call_class(kw: dict[str, Any], stack: Any) -> Any:
            return call(**kw)

        return call_class
    if kind == "asyncgen":
        factory = contextlib.asynccontextmanager(call)

        async def call_agen(kw: dict[str, Any], stack: Any) -> Any:
            return await stack.enter_async_context(factory(**kw))

        return call_agen
    if kind == "gen":
        sync_factory = contextlib.contextmanager(call)

        async def call_gen(kw: dict[str, Any], stack: Any) -> Any:
            cm = sync_factory(**kw)
            value = await run_in_threadpool(cm.__enter__)

            async def exit_(*exc_info: Any) -> bool:
                return bool(await run_in_threadpool(cm.__exit__, *exc_info))

            stack.push_async_exit(exit_)
            return value

        return call_gen

    async def call_sync(kw: dict[str, Any], stack: Any) -> Any:
        return await run_in_threadpool(call, **kw)

    return call_sync


# --- websockets ------------------------------------------------------------------------


def _websocket_app(plan: Plan, app: Any) -> ASGIApp:
    from covet.websockets.connection import WebSocket

    slots = plan.slots
    container: Any = getattr(app, "container", None)
    callers = [_caller(s) for s in slots]

    async def websocket_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        errors = None
        cache: dict[str, Any] = {}
        all_kwargs = []
        for slot in slots:
            kw: dict[str, Any] = {}
            if slot.params:
                errors = extract_params(slot.params, scope, kw, cache, errors)
            all_kwargs.append(kw)
        if errors:
            fields = ", ".join(e["field"] for e in errors)
            raise WebSocketException(1008, f"Validation failed: {fields}"[:120])
        stack = contextlib.AsyncExitStack()
        results: list[Any] = []
        try:
            for slot, kw, caller in zip(slots, all_kwargs, callers, strict=True):
                for pname, index in slot.dep_args:
                    kw[pname] = results[index]
                for pname, _kind in slot.specials:
                    kw[pname] = ws
                for pname, tp in slot.services:
                    kw[pname] = await container.resolve(tp, stack)
                results.append(await caller(kw, stack))
        except BaseException as exc:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await stack.aclose()

    return websocket_endpoint
