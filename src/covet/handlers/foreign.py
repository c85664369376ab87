"""Adapters for foreign model systems: pydantic v2, msgspec and the ``__covet_validate__`` protocol.

Each adapter is built once per type and offers the fastest path the library has:
pydantic validates raw JSON bytes with its core validator, msgspec decodes raw bytes with
a typed ``Decoder``. Their errors are converted into the framework's detail format.
The libraries are imported lazily: only when the application already uses them.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

from covet import _json
from covet.exceptions import MissingDependency, ValidationError

from .errors import MISSING, ErrorEntry, Invalid, RawPath
from .jsonbody import BadJSON, loads, loads_limited
from .typeinfo import unwrap_annotated, unwrap_optional

__all__ = ("json_decoder", "output_validator", "python_validator", "serializer")


def _module(name: str, extra: str) -> Any:
    mod = sys.modules.get(name)
    if mod is None:
        try:
            mod = __import__(name)
        except ImportError as exc:  # pragma: no cover - only without the extra installed
            raise MissingDependency(name, extra) from exc
    return mod


# --- pydantic --------------------------------------------------------------------------

_PYD_CODES = {
    "missing": "missing",
    "extra_forbidden": "extra_forbidden",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "less_than": "too_large",
    "less_than_equal": "too_large",
    "string_pattern_mismatch": "pattern_mismatch",
    "enum": "enum",
    "literal_error": "enum",
}


def pydantic_errors(exc: Any) -> list[ErrorEntry]:
    """Convert a ``pydantic.ValidationError`` into error entries (raises BadJSON on json_invalid)."""
    out: list[ErrorEntry] = []
    for err in exc.errors(include_url=False):
        etype = err.get("type", "")
        if etype == "json_invalid":
            raise BadJSON(f"Malformed JSON body: {err.get('ctx', {}).get('error', 'invalid JSON')}")
        code = _PYD_CODES.get(etype)
        if code is None:
            code = "type_error" if etype.endswith(("_type", "_parsing")) or "type" in etype else "value_error"
        path = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
        value = MISSING if code == "missing" else err.get("input", MISSING)
        out.append((path, code, str(err.get("msg", "Invalid value")), value))
    return out


def _pydantic_adapter(tp: Any) -> tuple[Any, Any]:
    pyd = _module("pydantic", "pydantic")
    if isinstance(tp, type) and issubclass(tp, pyd.BaseModel):
        return tp.__pydantic_validator__, pyd  # type: ignore[attr-defined]
    adapter = pyd.TypeAdapter(tp)
    return getattr(adapter, "validator", adapter), pyd


# --- msgspec ---------------------------------------------------------------------------

_MS_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MS_FIELD = re.compile(r"field `([^`]*)`")
_MS_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def msgspec_errors(exc: Exception, raw: Any = MISSING, tp: Any = None) -> list[ErrorEntry]:
    """Convert a ``msgspec.ValidationError`` (first error only: msgspec stops there).

    msgspec writes a dict entry as ``[...]``; with the decoded value and the type, the
    offending key is found again and named (``body.by_sku.A1.name``).
    """
    m = _MS_AT.match(str(exc))
    msg = m.group("msg") if m else str(exc)
    suffix = (m.group("path") if m else "") or ""
    if "[...]" in suffix and raw is not MISSING and tp is not None:
        suffix = _name_dict_keys(tp, suffix, raw)
    code = "value_error"
    if msg.startswith("Object missing required field"):
        code = "missing"
        f = _MS_FIELD.search(msg)
        if f:
            suffix += f".{f.group(1)}"
        msg = "Field required"
    elif msg.startswith("Object contains unknown field"):
        code = "extra_forbidden"
        f = _MS_FIELD.search(msg)
        if f:
            suffix += f".{f.group(1)}"
    elif "of length >=" in msg:
        code = "too_short"
    elif "of length <=" in msg:
        code = "too_long"
    elif "matching regex" in msg:
        code = "pattern_mismatch"
    elif msg.startswith("Invalid enum value"):
        code = "enum"
    elif re.search(r"`\s*(>=|>)", msg):
        code = "too_small"
    elif re.search(r"`\s*(<=|<)", msg):
        code = "too_large"
    elif msg.startswith("Expected"):
        code = "type_error"
    value = MISSING
    if code != "missing" and raw is not MISSING:
        value = _walk(raw, suffix)
    return [((RawPath(suffix),) if suffix else (), code, msg, value)]


def _ms_inner(tp: Any) -> Any:
    tp, _ = unwrap_annotated(tp)
    return unwrap_optional(tp)[0]


def _ms_child_type(ms: Any, tp: Any, key: str, index: str) -> Any:
    """The type at one step of a msgspec error path (``.field``, ``[0]``, ``[...]``)."""
    tp = _ms_inner(tp)
    args = get_args(tp)
    if key:
        if isinstance(get_origin(tp) or tp, type) and issubclass(get_origin(tp) or tp, ms.Struct):
            for f in ms.structs.fields(tp):
                if f.encode_name == key:
                    return f.type
            return None
        return typing.get_type_hints(get_origin(tp) or tp).get(key)
    if index:
        if get_origin(tp) is tuple and args and args[-1] is not Ellipsis:
            return args[int(index)] if int(index) < len(args) else None
        return args[0] if args else None
    return args[1] if len(args) == 2 else None


def _name_dict_keys(tp: Any, suffix: str, data: Any) -> str:
    """Replace msgspec's ``[...]`` steps by the key whose value fails (else keep them)."""
    ms = sys.modules.get("msgspec")
    if ms is None:
        return suffix
    out: list[str] = []
    try:
        for step in _MS_STEP.finditer(suffix):
            key, index = step.group(1), step.group(2)
            child = _ms_child_type(ms, tp, key or "", index or "")
            if key or index:
                data = data[key] if key else data[int(index)]
                out.append(step.group(0))
            else:
                bad = next(k for k, v in data.items() if not _ms_fits(ms, v, child))
                data = data[bad]
                out.append(f".{bad}")
            tp = child
            if tp is None:
                raise LookupError
    except (LookupError, TypeError, ValueError, StopIteration, AttributeError):
        return suffix
    return "".join(out)


def _ms_fits(ms: Any, value: Any, tp: Any) -> bool:
    try:
        ms.convert(value, tp)
    except ms.ValidationError:
        return False
    return True


def _walk(data: Any, path: str) -> Any:
    for key, index in _MS_STEP.findall(path):
        try:
            if key:
                data = data[key] if isinstance(data, dict) else getattr(data, key)
            elif index:
                data = data[int(index)]
            else:
                return MISSING
        except (KeyError, IndexError, TypeError, AttributeError):
            return MISSING
    return data


# --- the __covet_validate__ protocol ---------------------------------------------------


def protocol_errors(exc: ValidationError) -> list[ErrorEntry]:
    out: list[ErrorEntry] = []
    for d in exc.details:
        field = str(d.get("field", "$"))
        rel = field[1:] if field.startswith("$") else "." + field
        out.append(
            (
                (RawPath(rel),) if rel else (),
                str(d.get("code", "value_error")),
                str(d.get("message", "Invalid value")),
                d.get("value", MISSING),
            )
        )
    return out


# --- public builders -------------------------------------------------------------------


def python_validator(tp: Any, kind: str, *, from_attributes: bool = False) -> Callable[[Any], Any]:
    """Validate an already-decoded Python value against a foreign model type."""
    if kind == "pydantic":
        validator, pyd = _pydantic_adapter(tp)
        pyd_error = pyd.ValidationError
        validate_python = validator.validate_python

        def pyd_v(value: Any) -> Any:
            try:
                return validate_python(value, from_attributes=from_attributes or None)
            except pyd_error as exc:
                raise Invalid(pydantic_errors(exc)) from None

        return pyd_v
    if kind == "msgspec":
        ms = _module("msgspec", "fast")
        convert, ms_error = ms.convert, ms.ValidationError

        def ms_v(value: Any) -> Any:
            try:
                return convert(value, tp, from_attributes=from_attributes)
            except ms_error as exc:
                raise Invalid(msgspec_errors(exc, value, tp)) from None

        return ms_v
    validate = tp.__covet_validate__

    def proto_v(value: Any) -> Any:
        if type(value) is tp:
            return value
        if from_attributes and not isinstance(value, dict):
            to_dict = getattr(value, "to_dict", None)
            if callable(to_dict):
                value = to_dict()
        try:
            return validate(value, "$")
        except ValidationError as exc:
            raise Invalid(protocol_errors(exc)) from None

    return proto_v


def output_validator(tp: Any, kind: str) -> Callable[[Any], Any]:
    """A foreign model nested in a stdlib response model: validated, then lowered to JSON
    builtins the way the model system itself would encode it (the output is JSON-encoded
    by covet, which does not know pydantic or msgspec objects)."""
    validate = python_validator(tp, kind, from_attributes=True)
    if kind == "pydantic":
        pyd = _module("pydantic", "pydantic")
        if isinstance(tp, type) and issubclass(tp, pyd.BaseModel):
            to_python = tp.__pydantic_serializer__.to_python  # type: ignore[attr-defined]
        else:
            to_python = pyd.TypeAdapter(tp).dump_python

        def pyd_out(value: Any) -> Any:
            return to_python(validate(value), mode="json")

        return pyd_out
    if kind == "msgspec":
        to_builtins = _module("msgspec", "fast").to_builtins

        def ms_out(value: Any) -> Any:
            return to_builtins(validate(value))

        return ms_out
    return validate


NativeDecoder = tuple[Callable[[bytes], Any], tuple[type[BaseException], ...], Callable[[Any, bytes], Exception]]


def json_decoder(tp: Any, kind: str | None, max_depth: int = 64) -> NativeDecoder:
    """The library's own bytes -> value decoder for ``tp``, unwrapped for speed.

    Returns ``(decode, native_errors, convert)``: callers catch ``native_errors`` and raise
    ``convert(exc, raw)`` (an ``Invalid`` or a ``BadJSON``) instead.
    """
    if kind == "pydantic":
        validator, pyd = _pydantic_adapter(tp)

        def pyd_convert(exc: Any, raw: bytes) -> Exception:
            try:
                return Invalid(pydantic_errors(exc))
            except BadJSON as bad:
                return bad

        return validator.validate_json, (pyd.ValidationError,), pyd_convert
    if kind == "msgspec":
        ms = _module("msgspec", "fast")
        ms_validation = ms.ValidationError

        def ms_convert(exc: Any, raw: bytes) -> Exception:
            if isinstance(exc, ms_validation):
                return Invalid(msgspec_errors(exc, _value_source(raw), tp))
            return BadJSON(f"Malformed JSON body: {exc}")

        return ms.json.Decoder(tp).decode, (ms.DecodeError,), ms_convert
    if kind == "protocol":
        check = python_validator(tp, "protocol")
        return (lambda raw: check(loads_limited(raw, max_depth))), (), _no_convert
    raise ValueError(f"no JSON decoder for {kind!r}")


def _value_source(raw: bytes) -> Any:
    """Decoded body to look offending values up in (only when decoding is harmless)."""
    if raw.count(b"[") + raw.count(b"{") > 1000:
        return MISSING
    try:
        return loads(raw)
    except BadJSON:
        return MISSING


def _no_convert(exc: Any, raw: bytes) -> Exception:
    return exc


def serializer(tp: Any, kind: str) -> Callable[[Any], bytes]:
    """Validate a return value against a foreign response model and encode it to JSON."""
    if kind == "pydantic":
        pyd = _module("pydantic", "pydantic")
        validate = python_validator(tp, "pydantic", from_attributes=True)
        if isinstance(tp, type) and issubclass(tp, pyd.BaseModel):
            dump_json = tp.__pydantic_serializer__.to_json  # type: ignore[attr-defined]
            exact: Any = tp
        else:
            dump_json = pyd.TypeAdapter(tp).dump_json
            exact = None

        def pyd_ser(value: Any) -> bytes:
            if type(value) is not exact:
                value = validate(value)
            return dump_json(value)

        return pyd_ser
    if kind == "msgspec":
        ms = _module("msgspec", "fast")
        encode = ms.json.Encoder().encode
        validate = python_validator(tp, "msgspec", from_attributes=True)
        exact = tp if isinstance(tp, type) else None

        def ms_ser(value: Any) -> bytes:
            if type(value) is not exact:
                value = validate(value)
            return encode(value)

        return ms_ser
    validate = python_validator(tp, "protocol", from_attributes=True)
    dumps = _json.dumps

    def proto_ser(value: Any) -> bytes:
        out = validate(value)
        to_dict = getattr(out, "to_dict", None)
        return dumps(to_dict() if callable(to_dict) else out)

    return proto_ser
