"""Validation, to_dict, derived schemas and the handlers' schema protocol."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from orm_unit_models import Account, Color, Entry

from covet.exceptions import ValidationError


def test_validate_collects_every_error() -> None:
    a = Account(
        email="x" * 300, nickname="a", age=200, price=decimal.Decimal("12345.678"), size="xl"
    )
    with pytest.raises(ValidationError) as info:
        a.validate()
    got = {d["field"]: d["code"] for d in info.value.details}
    assert got == {
        "email": "too_long",
        "nickname": "too_short",
        "age": "too_large",
        "price": "value_error",
        "size": "enum",
    }
    assert all(set(d) == {"field", "message", "code", "value"} for d in info.value.details)


def test_error_codes_use_the_framework_vocabulary() -> None:
    from covet.orm import Field, Model

    class Limits(Model):
        n: int = Field(default=0)
        small: int = Field(default=0, ge=10)
        money: decimal.Decimal = Field(default=decimal.Decimal(0), max_digits=4, decimal_places=2)
        label: str = Field(default="x", max_length=5)

        class Meta:
            table = "u_limits"

    cases = {
        "n": (2**31, "too_large"),
        "small": (3, "too_small"),
        "money": ("123.45", "value_error"),
        "label": (None, "type_error"),
    }
    for name, (value, code) in cases.items():
        with pytest.raises(ValidationError) as info:
            Limits.__covet_validate__({name: value}, "body")
        assert [(d["field"], d["code"]) for d in info.value.details] == [(f"body.{name}", code)]
    with pytest.raises(ValidationError) as info:
        Limits.__covet_validate__({"n": -(2**31) - 1}, "body")
    assert info.value.details[0]["code"] == "too_small"


def test_covet_validate_coerces_json_and_prefixes_loc() -> None:
    obj = Account.__covet_validate__(
        {
            "email": "a@x.io",
            "price": "12.50",
            "color": "blue",
            "joined": "2024-01-02T03:04:05Z",
            "extra": {"a": [1]},
        },
        "body",
    )
    assert isinstance(obj, Account)
    assert obj.price == decimal.Decimal("12.50") and obj.color is Color.BLUE
    assert obj.joined == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    with pytest.raises(ValidationError) as info:
        Account.__covet_validate__({"age": "old", "joined": "yesterday", "color": "green"}, "body")
    got = {d["field"]: d["code"] for d in info.value.details}
    assert got == {
        "body.email": "missing",
        "body.age": "type_error",
        "body.color": "enum",
        "body.joined": "type_error",
    }
    with pytest.raises(ValidationError) as info:
        Account.__covet_validate__(["not", "an", "object"], "body")
    assert info.value.details[0]["field"] == "body"


def test_hostile_json_values() -> None:
    with pytest.raises(ValidationError):
        Account.__covet_validate__({"email": "a\x00b"}, "body")
    with pytest.raises(ValidationError):
        Account.__covet_validate__({"email": "a@x.io", "age": True}, "body")
    with pytest.raises(ValidationError):
        Account.__covet_validate__({"email": "a@x.io", "age": 2**70}, "body")
    with pytest.raises(ValidationError):
        Account.__covet_validate__({"email": "a@x.io", "price": "NaN"}, "body")
    deep: object = 1
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValidationError):
        Account.__covet_validate__({"email": "a@x.io", "extra": deep}, "body")


def test_to_dict_is_json_ready() -> None:
    a = Account(
        email="a@x.io",
        id=3,
        price=decimal.Decimal("1.50"),
        joined=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    )
    d = a.to_dict()
    assert (
        d["price"] == "1.50" and d["color"] == "red" and d["joined"] == "2024-01-01T00:00:00+00:00"
    )
    assert "password_hash" not in a.to_dict(exclude={"password_hash"})
    assert a.to_dict(include={"id", "email"}) == {"id": 3, "email": "a@x.io"}
    e = Entry(title="t", account=a)
    assert e.to_dict()["account"]["email"] == "a@x.io" and e.to_dict()["account_id"] == 3


def test_derived_schema_subset() -> None:
    Public = Account.schema(exclude={"password_hash"}, name="AccountOut")
    assert Public is Account.schema(exclude={"password_hash"}, name="AccountOut")
    js = Public.__covet_json_schema__()
    assert js["title"] == "AccountOut" and "password_hash" not in js["properties"]
    assert js["properties"]["email"] == {"type": "string", "maxLength": 255}
    assert js["properties"]["id"]["readOnly"] is True
    assert js["properties"]["color"]["enum"] == ["red", "blue"]
    assert js["required"] == ["email"]
    out = Public.__covet_validate__(Account(email="a@x.io", id=1, password_hash="secret"), "$")
    assert "password_hash" not in out.to_dict() and out.email == "a@x.io"
    Create = Account.schema(include={"email", "nickname"})
    body = Create.__covet_validate__(
        {"email": "n@x.io", "nickname": "nick", "password_hash": "ignored"}, "body"
    )
    assert dict(body) == {"email": "n@x.io", "nickname": "nick"}
    assert Account(**body).email == "n@x.io"
    with pytest.raises(ValueError):
        Account.schema(exclude={"nope"})


def test_model_json_schema() -> None:
    js = Entry.__covet_json_schema__()
    assert js["properties"]["account_id"] == {"type": "integer"}
    assert js["properties"]["reviewer_id"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert "topics" not in js["properties"]
    assert set(js["required"]) == {"account_id", "title"}
