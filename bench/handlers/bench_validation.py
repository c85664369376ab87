"""Validation cost: calling pydantic / msgspec directly vs through covet's compiled body extractor.

    python bench/handlers/bench_validation.py

Model: ``name: str, price: float, tags: list[str]`` and the body
``{"name":"widget","price":9.99,"tags":["a","b"]}``. "through covet" is the decoder the
handler compiler builds for a route whose only body parameter has that type (what runs
per request between reading the bytes and calling the endpoint). Time is process CPU
time, best of 7 repeats of 50,000 calls.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pydantic

from covet.handlers.compiler import _body_step
from covet.handlers.plan import build_plan


class ItemPyd(pydantic.BaseModel):
    name: str
    price: float
    tags: list[str]


class ItemMs(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


@dataclasses.dataclass
class ItemDC:
    name: str
    price: float
    tags: list[str]


BODY = b'{"name":"widget","price":9.99,"tags":["a","b"]}'
N = 50_000


@dataclasses.dataclass
class _Route:
    endpoint: Any
    path: str = "/items"
    param_convertors: dict[str, Any] = dataclasses.field(default_factory=dict)
    dependencies: list[Any] = dataclasses.field(default_factory=list)


class _App:
    dependencies: list[Any] = []


def covet_decoder(model: type) -> Callable[[bytes], Any]:
    async def endpoint(item: Any) -> None:
        return None

    endpoint.__annotations__ = {"item": model, "return": None}

    plan = build_plan(_Route(endpoint), _App())
    assert plan.body_mode == "whole" and plan.body_decoder is not None
    return plan.body_decoder


def covet_extractor(model: type) -> Callable[[bytes], Any]:
    """The whole per-request body step after the bytes arrived: emptiness check,
    decode + validate, error translation, kwargs assignment."""

    async def endpoint(item: Any) -> None:
        return None

    endpoint.__annotations__ = {"item": model, "return": None}
    step = _body_step(build_plan(_Route(endpoint), _App()))

    def extract(body: bytes) -> Any:
        kwargs: dict[str, Any] = {}
        step(body, kwargs, None)
        return kwargs["item"]

    return extract


def bench(fn: Callable[[bytes], Any]) -> float:
    for _ in range(5000):
        fn(BODY)
    best = float("inf")
    for _ in range(7):
        t0 = time.process_time()
        for _ in range(N):
            fn(BODY)
        best = min(best, (time.process_time() - t0) / N * 1e6)
    return best


def main() -> None:
    ms_decoder = msgspec.json.Decoder(ItemMs)
    rows = [
        ("pydantic v2 (`model_validate_json`)", ItemPyd.model_validate_json, ItemPyd),
        ("msgspec (`json.Decoder(Item).decode`)", ms_decoder.decode, ItemMs),
    ]
    print("| model system | direct µs/call | covet decoder µs/call | overhead | covet body step µs/call | overhead |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, direct_fn, model in rows:
        direct = bench(direct_fn)
        through = bench(covet_decoder(model))
        step = bench(covet_extractor(model))
        print(
            f"| {name} | {direct:.3f} | {through:.3f} | {(through / direct - 1) * 100:+.0f}% "
            f"| {step:.3f} | {(step / direct - 1) * 100:+.0f}% |"
        )
    assert covet_decoder(ItemDC)(BODY) == ItemDC("widget", 9.99, ["a", "b"])
    dc, dc_step = bench(covet_decoder(ItemDC)), bench(covet_extractor(ItemDC))
    print(f"| stdlib dataclass (covet validator + orjson) | n/a | {dc:.3f} | n/a | {dc_step:.3f} | n/a |")


if __name__ == "__main__":
    main()
