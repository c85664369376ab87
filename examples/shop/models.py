"""The shop's data: plain dataclasses, TypedDicts and enums (no extra library needed).

Field constraints are ``Annotated`` metadata; the same declarations validate requests
and produce the OpenAPI document.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from covet.handlers import Ge, Gt, Le, MaxLen, MinLen, Pattern

Name = Annotated[str, MinLen(1), MaxLen(120)]
Price = Annotated[float, Gt(0), Le(100_000)]
Email = Annotated[str, MaxLen(254), Pattern(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")]


class Category(str, enum.Enum):
    """What kind of product it is."""

    ELECTRONICS = "electronics"
    BOOKS = "books"
    GARDEN = "garden"
    TOYS = "toys"


class OrderStatus(str, enum.Enum):
    """Where an order is in its life."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Currency(str, enum.Enum):
    """Currencies prices can be shown in."""

    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


# --- products ---------------------------------------------------------------------------


@dataclass
class ProductIn:
    """A product as the catalogue team submits it."""

    name: Name
    price: Price
    category: Category
    description: Annotated[str, MaxLen(2000)] | None = None
    tags: Annotated[list[Annotated[str, MinLen(1), MaxLen(30)]], MaxLen(10)] = field(
        default_factory=list
    )
    stock: Annotated[int, Ge(0), Le(1_000_000)] = 0


class ProductPatch(TypedDict, total=False):
    """A partial update: only the keys sent change."""

    name: Name
    price: Price
    stock: Annotated[int, Ge(0), Le(1_000_000)]
    tags: Annotated[list[Annotated[str, MinLen(1), MaxLen(30)]], MaxLen(10)]


@dataclass
class Image:
    """An uploaded product picture."""

    filename: str
    content_type: str
    size: int
    alt_text: str


@dataclass
class Product:
    """A product in the catalogue, with its price in the requested currency."""

    id: int
    name: str
    price: float
    currency: Currency
    category: Category
    description: str | None
    tags: list[str]
    stock: int
    image: Image | None = None


@dataclass
class ProductPage:
    """One page of a product search."""

    items: list[Product]
    total: int
    offset: int
    limit: int


# --- customers --------------------------------------------------------------------------


class _AddressExtras(TypedDict, total=False):
    line2: Annotated[str, MaxLen(200)]


class Address(_AddressExtras):
    """A postal address (``line2`` may be left out)."""

    street: Annotated[str, MinLen(1), MaxLen(200)]
    city: Annotated[str, MinLen(1), MaxLen(100)]
    postal_code: Annotated[str, Pattern(r"^[A-Za-z0-9 -]{3,10}$")]
    country: Annotated[str, Pattern(r"^[A-Z]{2}$")]


@dataclass
class CustomerIn:
    """A new customer account."""

    email: Email
    name: Name
    password: Annotated[str, MinLen(8), MaxLen(128)]
    address: Address
    newsletter: bool = False


@dataclass
class Customer:
    """A customer account; ``token`` is shown once, at sign-up."""

    id: int
    email: str
    name: str
    address: Address
    newsletter: bool
    created_at: datetime.datetime


@dataclass
class CustomerPage:
    """One page of the customer list."""

    items: list[Customer]
    total: int
    offset: int
    limit: int


@dataclass
class SignUp:
    """The new account and its bearer token."""

    customer: Customer
    access_token: str
    token_type: str = "bearer"


# --- orders -----------------------------------------------------------------------------


@dataclass
class OrderLineIn:
    product_id: Annotated[int, Ge(1)]
    quantity: Annotated[int, Ge(1), Le(100)] = 1


@dataclass
class OrderIn:
    """What a customer orders; prices are taken from the catalogue."""

    lines: Annotated[list[OrderLineIn], MinLen(1), MaxLen(50)]
    note: Annotated[str, MaxLen(500)] | None = None


@dataclass
class OrderLine:
    product_id: int
    name: str
    quantity: int
    unit_price: float


@dataclass
class Order:
    """A placed order."""

    id: int
    customer_id: int
    status: OrderStatus
    lines: list[OrderLine]
    total: float
    note: str | None
    created_at: datetime.datetime


@dataclass
class StatusChange:
    """Move an order to another status (admin)."""

    status: OrderStatus


@dataclass
class Token:
    """An OAuth2-style token answer."""

    access_token: str
    token_type: str = "bearer"
