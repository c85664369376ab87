"""Covet Shop: a small catalogue/ordering API showing typed handlers and OpenAPI.

Run it:   covet run examples.shop.app:app    (or: uvicorn examples.shop.app:app)
Browse:   http://127.0.0.1:8000/docs  (Swagger UI)   /redoc   /openapi.json

Everything is kept in memory; restart the process to start afresh. Environment:

    SHOP_ADMIN_KEY      the X-API-Key value of the catalogue team (default "change-me")
    COVET_DOCS_ASSETS   serve Swagger UI / ReDoc from this directory instead of the CDN
                        (fill it with scripts/fetch-docs-assets.sh)
"""

from __future__ import annotations

import hmac
import os
import secrets
from datetime import datetime, timezone
from typing import Annotated, Literal

from covet import (
    Cookie,
    Covet,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Router,
    UploadFile,
)

from .auth import current_customer, hash_password, require_admin
from .models import (
    Category,
    Currency,
    Customer,
    CustomerIn,
    CustomerPage,
    Image,
    Order,
    OrderIn,
    OrderStatus,
    Product,
    ProductIn,
    ProductPage,
    ProductPatch,
    SignUp,
    StatusChange,
    Token,
)
from .store import store

RATES = {Currency.EUR: 1.0, Currency.USD: 1.08, Currency.GBP: 0.85}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")

# Error responses need only a description: the body is the framework's error format.
NOT_FOUND = {"description": "No such resource"}

app = Covet(
    title="Covet Shop",
    version="1.0.0",
    description=(
        "A catalogue and ordering API. Customers sign up, get a bearer token and place "
        "orders; the catalogue team manages products with an API key."
    ),
    openapi_tags=[
        {"name": "products", "description": "The catalogue."},
        {"name": "customers", "description": "Accounts and sign-in."},
        {"name": "orders", "description": "Placing and following orders."},
        {"name": "reviews", "description": "What customers think (needs pydantic)."},
    ],
    docs_assets=os.environ.get("COVET_DOCS_ASSETS") or None,
)


# --- products ---------------------------------------------------------------------------

products = Router(prefix="/products", tags=["products"])
CurrencyHeader = Annotated[
    Currency, Header(description="Show prices in this currency.", alias="X-Currency")
]


def priced(product: Product, currency: Currency) -> Product:
    rate = RATES[currency]
    return Product(
        **{**product.__dict__, "price": round(product.price * rate, 2), "currency": currency}
    )


@products.get("/", summary="Search the catalogue")
async def list_products(
    q: Annotated[str | None, Query(max_length=100, description="Words in the name.")] = None,
    category: Category | None = None,
    tags: Annotated[list[str], Query(description="Products having all these tags.")] = [],  # noqa: B006
    min_price: Annotated[float | None, Query(ge=0)] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
    in_stock: bool = False,
    sort: Literal["name", "price", "-price"] = "name",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    x_currency: CurrencyHeader = Currency.EUR,
) -> ProductPage:
    """Filter by text, category, tags and price (in EUR); results are paginated."""
    found = store.search(q, category, tags, min_price, max_price, in_stock, sort)
    items = [priced(p, x_currency) for p in found[offset : offset + limit]]
    return ProductPage(items=items, total=len(found), offset=offset, limit=limit)


@products.get("/recently-viewed", summary="Products seen lately")
async def recently_viewed(
    recently_viewed: Annotated[
        str | None,
        Cookie(
            pattern=r"^[0-9]{1,9}(,[0-9]{1,9}){0,19}$",
            description="Comma-separated product ids, most recent first.",
        ),
    ] = None,
) -> list[Product]:
    """Read the ``recently_viewed`` cookie; unknown ids are skipped."""
    if not recently_viewed:
        return []
    ids = [int(part) for part in recently_viewed.split(",")]
    return [p for p in (store.products.get(i) for i in ids) if p is not None]


@products.get("/{product_id:int}", responses={404: NOT_FOUND})
async def get_product(product_id: int, x_currency: CurrencyHeader = Currency.EUR) -> Product:
    """One product, priced in the requested currency."""
    return priced(store.product(product_id), x_currency)


@products.post("/", status_code=201, dependencies=[Depends(require_admin)])
async def create_product(product: ProductIn) -> Product:
    """Add a product to the catalogue (prices in EUR)."""
    return store.add_product(product)


@products.patch(
    "/{product_id:int}", dependencies=[Depends(require_admin)], responses={404: NOT_FOUND}
)
async def update_product(product_id: int, patch: ProductPatch) -> Product:
    """Change some fields of a product."""
    return store.update_product(product_id, patch)


@products.delete(
    "/{product_id:int}",
    status_code=204,
    dependencies=[Depends(require_admin)],
    responses={404: NOT_FOUND},
)
async def delete_product(product_id: int) -> None:
    """Remove a product (orders keep their copy of its name and price)."""
    store.delete_product(product_id)


@products.post(
    "/{product_id:int}/image",
    dependencies=[Depends(require_admin)],
    responses={
        404: NOT_FOUND,
        413: {"description": "Image too large"},
        415: {"description": "Not an image"},
    },
    # Deep-merged into the operation: tell clients which file types the part may have.
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {"image": {"contentType": ", ".join(IMAGE_TYPES)}}
                }
            }
        }
    },
)
async def upload_image(
    product_id: int,
    image: Annotated[UploadFile, File(description="A PNG, JPEG or WebP picture, 2 MiB at most.")],
    alt_text: Annotated[str, Form(max_length=200)] = "",
) -> Product:
    """Attach a picture to a product (multipart upload)."""
    product = store.product(product_id)
    if image.content_type not in IMAGE_TYPES:
        raise HTTPException(415, "Upload a PNG, JPEG or WebP image")
    data = await image.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise HTTPException(413, "Images are limited to 2 MiB")
    product.image = Image(
        filename=image.filename or "image",
        content_type=image.content_type,
        size=len(data),
        alt_text=alt_text,
    )
    return product


# --- customers and sign-in --------------------------------------------------------------

customers = Router(prefix="/customers", tags=["customers"])


@customers.post("/", status_code=201, responses={409: {"description": "Email already used"}})
async def sign_up(customer: CustomerIn) -> SignUp:
    """Create an account; the answer carries a bearer token for the other endpoints."""
    salt = secrets.token_bytes(16)
    created = store.add_customer(customer, salt, hash_password(customer.password, salt))
    return SignUp(customer=created, access_token=store.issue_token(created.id))


@customers.get("/me")
async def me(customer: Customer = Depends(current_customer)) -> Customer:
    """The signed-in customer."""
    return customer


@customers.get("/", dependencies=[Depends(require_admin)])
async def list_customers(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CustomerPage:
    """All accounts, oldest first (catalogue team only)."""
    everyone = list(store.customers.values())
    return CustomerPage(
        items=everyone[offset : offset + limit], total=len(everyone), offset=offset, limit=limit
    )


auth = Router(prefix="/auth", tags=["customers"])


@auth.post("/token", responses={401: {"description": "Wrong email or password"}})
async def login(
    username: Annotated[str, Form(description="The account's email.", max_length=254)],
    password: Annotated[str, Form(max_length=128)],
) -> Token:
    """Exchange email and password (an urlencoded form) for a bearer token."""
    found = store.credentials(username)
    # Hash even for an unknown email, so that the timing does not reveal which exist.
    salt, expected, customer_id = found or (b"\0" * 16, b"", 0)
    if not hmac.compare_digest(hash_password(password, salt), expected) or not found:
        raise HTTPException(401, "Wrong email or password", headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token=store.issue_token(customer_id))


# --- orders -----------------------------------------------------------------------------

orders = Router(prefix="/orders", tags=["orders"])


@orders.post(
    "/",
    status_code=201,
    responses={404: {"description": "Unknown product"}, 409: {"description": "Out of stock"}},
)
async def place_order(order: OrderIn, customer: Customer = Depends(current_customer)) -> Order:
    """Reserve the stock and create a pending order."""
    return store.place_order(customer.id, order)


@orders.get("/")
async def list_orders(
    customer: Customer = Depends(current_customer),
    status: OrderStatus | None = None,
) -> list[Order]:
    """The customer's orders, newest first, optionally of one status."""
    mine = [o for o in store.orders.values() if o.customer_id == customer.id]
    return sorted((o for o in mine if status is None or o.status == status), key=lambda o: -o.id)


@orders.get("/{order_id:int}", responses={404: NOT_FOUND})
async def get_order(order_id: int, customer: Customer = Depends(current_customer)) -> Order:
    """One of the customer's orders."""
    return store.order_of(order_id, customer.id)


@orders.post(
    "/{order_id:int}/cancel",
    responses={404: NOT_FOUND, 409: {"description": "Already shipped or cancelled"}},
)
async def cancel_order(order_id: int, customer: Customer = Depends(current_customer)) -> Order:
    """Cancel a pending or paid order; its stock goes back to the catalogue."""
    return store.cancel(store.order_of(order_id, customer.id))


@orders.put(
    "/{order_id:int}/status",
    dependencies=[Depends(require_admin)],
    responses={404: NOT_FOUND, 409: {"description": "Not a valid transition"}},
)
async def set_order_status(order_id: int, change: StatusChange) -> Order:
    """Move an order along: pending -> paid -> shipped (catalogue team)."""
    return store.set_status(order_id, change.status)


@app.get("/health", tags=["meta"])
async def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok", "time": datetime.now(timezone.utc).isoformat()}


app.include_router(products)
app.include_router(customers)
app.include_router(auth)
app.include_router(orders)

try:  # the reviews use pydantic models when pydantic is installed
    import pydantic  # noqa: F401
except ImportError:  # pragma: no cover - exercised by installs without the extra
    pass
else:
    from .reviews import reviews

    app.include_router(reviews)

__all__ = ("app",)
