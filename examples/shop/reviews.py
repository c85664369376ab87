"""Product reviews, written with pydantic models (imported only when pydantic is installed).

Shows that pydantic models mix with dataclasses in one application and one document.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Annotated

from pydantic import BaseModel, Field

from covet import Depends, Query, Router

from .auth import current_customer
from .models import Customer
from .store import store

reviews = Router(prefix="/products/{product_id:int}/reviews", tags=["reviews"])
_ids = itertools.count(1)
_reviews: dict[int, list[Review]] = {}


class ReviewIn(BaseModel):
    """A customer's opinion of a product."""

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent) stars.")
    title: str = Field(min_length=1, max_length=100)
    body: str | None = Field(default=None, max_length=2000)


class Review(ReviewIn):
    """A published review."""

    id: int
    product_id: int
    author: str
    created_at: datetime


@reviews.post("/", status_code=201, responses={404: {"description": "No such product"}})
async def add_review(
    product_id: int,
    review: ReviewIn,
    customer: Customer = Depends(current_customer),
) -> Review:
    """Publish a review of a product (signed-in customers)."""
    store.product(product_id)
    published = Review(
        id=next(_ids),
        product_id=product_id,
        author=customer.name,
        created_at=datetime.now(timezone.utc),
        **review.model_dump(),
    )
    _reviews.setdefault(product_id, []).append(published)
    return published


@reviews.get("/", responses={404: {"description": "No such product"}})
async def list_reviews(
    product_id: int,
    min_rating: Annotated[int, Query(ge=1, le=5)] = 1,
) -> list[Review]:
    """Reviews of a product, newest first."""
    store.product(product_id)
    return [r for r in reversed(_reviews.get(product_id, [])) if r.rating >= min_rating]
