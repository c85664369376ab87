"""``covet_app`` with the POST body as a msgspec Struct (``covetpy[fast]``), as Falcon and
Litestar validate theirs."""

from __future__ import annotations

import msgspec
from covet_app import make_app


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


app = make_app(Item)
