"""Models shared by the ORM integration tests (bound to the default database)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

from covet.orm import JSON, Field, ForeignKey, ManyToMany, Model, OneToOne


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class Author(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str | None = Field(default=None, max_length=100)
    active: bool = True
    score: float = 0.0
    balance: decimal.Decimal = Field(default=decimal.Decimal("0"), max_digits=10, decimal_places=2)
    born: dt.date | None = None
    wakes: dt.time | None = None
    uid: uuid.UUID = Field(default_factory=uuid.uuid4)
    data: dict = Field(default_factory=dict)
    avatar: bytes | None = None
    mood: Mood = Mood.HAPPY
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Meta:
        table = "orm_author"


class Profile(Model):
    author: OneToOne[Author] = Field(on_delete="cascade", related_name="profile")
    bio: str = Field(max_length=200, default="")

    class Meta:
        table = "orm_profile"


class Label(Model):
    name: str = Field(max_length=50, unique=True)

    class Meta:
        table = "orm_label"


class Article(Model):
    id: int = Field(primary_key=True)
    author: ForeignKey[Author] = Field(on_delete="cascade", related_name="articles")
    editor: ForeignKey[Author] | None = Field(on_delete="set_null", related_name="edited")
    title: str = Field(max_length=200, index=True)
    views: int = 0
    labels: ManyToMany[Label] = Field(related_name="articles")

    class Meta:
        table = "orm_article"
        ordering = ["id"]


class Publisher(Model):
    name: str = Field(max_length=100)

    class Meta:
        table = "orm_publisher"


class Book(Model):
    publisher: ForeignKey[Publisher] = Field(on_delete="protect", related_name="books")
    title: str = Field(max_length=100)

    class Meta:
        table = "orm_book"


class Shelf(Model):
    """RESTRICT enforced by the database alone (no ORM-side check)."""

    publisher: ForeignKey[Publisher] = Field(on_delete="restrict", related_name="shelves")
    label: str = Field(max_length=20)

    class Meta:
        table = "orm_shelf"


class Note(Model):
    """A relation without a database constraint: the ORM applies the cascade."""

    publisher: ForeignKey[Publisher] = Field(
        on_delete="cascade", db_constraint=False, related_name="notes"
    )
    text: str = Field(max_length=100)

    class Meta:
        table = "orm_note"


class Counter(Model):
    name: str = Field(max_length=50, unique=True)
    value: int = 0

    class Meta:
        table = "orm_counter"
        unique_together = [("name", "value")]


class Token(Model):
    """A UUID primary key (not auto) referenced by a foreign key."""

    id: uuid.UUID = Field(primary_key=True, default_factory=uuid.uuid4)
    label: str = Field(max_length=20)

    class Meta:
        table = "orm_token"


class TokenUse(Model):
    token: ForeignKey[Token] = Field(related_name="uses")
    at: dt.datetime = Field(default_factory=utcnow)

    class Meta:
        table = "orm_token_use"


class Category(Model):
    name: str = Field(max_length=30)
    parent: ForeignKey[self] | None = Field(on_delete="cascade", related_name="children")  # noqa: F821

    class Meta:
        table = "orm_category"


class Doc(Model):
    """JSON key lookups: a nullable JSON document."""

    name: str = Field(max_length=40)
    data: JSON = None

    class Meta:
        table = "orm_doc"


ALL_MODELS = [
    Author,
    Profile,
    Label,
    Article,
    Article.labels.field.through,
    Publisher,
    Book,
    Shelf,
    Note,
    Counter,
    Token,
    TokenUse,
    Category,
    Doc,
]
