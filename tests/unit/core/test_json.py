"""covet._json: orjson and the stdlib give the same bytes, including the edge cases."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator

import pytest

from covet import _json


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: float


VALUES = [
    {"a": 1, "b": [1, 2.5, None, True], "é": "ü"},
    {"big": 2**70, "neg": -(2**80)},
    [datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), datetime.date(2024, 1, 2)],
    {"id": uuid.UUID(int=5), "price": decimal.Decimal("9.99"), "colour": Colour.RED},
    Point(1, 2.5),
]


@pytest.fixture(params=["orjson", "json"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "orjson":
        pytest.importorskip("orjson")
        _json._install()
    else:
        _json.use_stdlib()
    yield request.param
    _json._install()


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_same_output_on_both_backends(backend: str, value: object) -> None:
    out = _json.dumps(value)
    _json.use_stdlib()
    assert out == _json.dumps(value)


def test_unserialisable_is_a_type_error(backend: str) -> None:
    with pytest.raises(TypeError):
        _json.dumps({"x": object()})


def test_malformed_input_is_a_value_error(backend: str) -> None:
    with pytest.raises(ValueError):
        _json.loads(b"{nope")
