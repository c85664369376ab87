"""``covet._typing``: the type-hint reading shared by handlers and OpenAPI."""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Generic, NotRequired, Required, TypedDict, TypeVar

import pytest

from covet._typing import (
    is_typeddict,
    split_qualifiers,
    substitute,
    substituted_hints,
    typevar_bindings,
)

T = TypeVar("T")
U = TypeVar("U")


def plain_hints(tp: Any) -> dict[str, Any]:
    return typing.get_type_hints(tp, include_extras=True)


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclasses.dataclass
class Pair(Page[T], Generic[T, U]):
    extra: U
    total: int  # redeclared: moves after ``extra``


class Movie(TypedDict, Generic[T]):
    title: Required[str]
    rating: NotRequired[T]


class Broken:
    field: Missing  # type: ignore[name-defined]  # noqa: F821


def test_substitution_follows_generic_bases() -> None:
    assert substituted_hints(Page[int], plain_hints) == {"items": list[int], "total": int}
    assert list(substituted_hints(Pair[str, bytes], plain_hints).items()) == [
        ("items", list[str]),
        ("extra", bytes),
        ("total", int),
    ]
    assert typevar_bindings(Pair[str, bytes])[Page] == {T: str}


def test_unparametrised_class_is_read_as_is() -> None:
    assert substituted_hints(Page, plain_hints) == {"items": list[T], "total": int}


def test_typeddict_generic_and_qualifiers() -> None:
    hints = substituted_hints(Movie[float], plain_hints)
    assert split_qualifiers(hints["rating"]) == (float, False)
    assert split_qualifiers(hints["title"]) == (str, True)
    assert is_typeddict(Movie) and not is_typeddict(dict)


def test_qualifier_inside_annotated_keeps_metadata() -> None:
    assert split_qualifiers(Annotated[NotRequired[int], "meta"]) == (Annotated[int, "meta"], False)
    assert split_qualifiers(Annotated[int, "meta"]) == (Annotated[int, "meta"], None)


def test_substitute_leaves_unrelated_annotations() -> None:
    assert substitute(dict[str, T], {T: int}) == dict[str, int]
    assert substitute(int, {T: int}) is int
    assert substitute(U, {T: int}) is U


def test_resolver_errors_are_the_callers() -> None:
    def strict(tp: Any) -> dict[str, Any]:
        try:
            return plain_hints(tp)
        except NameError as exc:
            raise LookupError(str(exc)) from exc

    with pytest.raises(LookupError, match="Missing"):
        substituted_hints(Broken, strict)
