"""Models for the offline ORM unit tests (never touch a database)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Literal

from covet.orm import JSON, Field, ForeignKey, ManyToMany, Model, OneToOne


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Account(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    password_hash: str = Field(max_length=200, default="")
    nickname: str | None = Field(default=None, max_length=20, min_length=2)
    age: int = Field(default=0, ge=0, le=150)
    price: decimal.Decimal = Field(default=decimal.Decimal("0"), max_digits=6, decimal_places=2)
    color: Color = Color.RED
    size: Literal["s", "m", "l"] = "m"
    extra: JSON = None
    joined: dt.datetime | None = None

    class Meta:
        table = "u_account"
        ordering = ["-id"]


class Entry(Model):
    id: int = Field(primary_key=True)
    account: ForeignKey[Account] = Field(on_delete="cascade", related_name="entries")
    reviewer: ForeignKey[Account] | None = Field(on_delete="set_null", related_name="reviews")
    title: str = Field(max_length=200, index=True)
    views: int = 0
    topics: ManyToMany[Topic] = Field(related_name="entries")

    class Meta:
        table = "u_entry"
        indexes = [("account", "title")]


class Topic(Model):
    name: str = Field(max_length=50)

    class Meta:
        table = "u_topic"


class Badge(Model):
    account: OneToOne[Account] = Field(related_name="badge")
    level: int = 1

    class Meta:
        table = "u_badge"
        unique_together = [("account", "level")]
