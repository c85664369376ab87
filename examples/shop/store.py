"""In-memory storage for the shop (a real application would use ``covet.orm``)."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import datetime, timezone

from covet import HTTPException

from .models import (
    Category,
    Currency,
    Customer,
    CustomerIn,
    Order,
    OrderIn,
    OrderLine,
    OrderStatus,
    Product,
    ProductIn,
    ProductPatch,
)

_TRANSITIONS = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: set(),
    OrderStatus.CANCELLED: set(),
}

SEED = [
    ProductIn("Mechanical keyboard", 89.0, Category.ELECTRONICS, "Tactile switches.", ["desk"], 25),
    ProductIn("Noise-cancelling headphones", 199.0, Category.ELECTRONICS, None, ["audio"], 10),
    ProductIn(
        "The Pragmatic Gardener", 24.5, Category.BOOKS, "Grow more with less.", ["garden"], 40
    ),
    ProductIn("Copper watering can", 35.0, Category.GARDEN, None, ["garden", "gift"], 12),
    ProductIn("Wooden train set", 49.9, Category.TOYS, "Forty pieces, beech wood.", ["gift"], 0),
]


def _token_key(token: str) -> str:
    # Tokens are looked up by their SHA-256: the dict never holds a usable token, and the
    # lookup's timing says nothing about the token itself.
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """Products, customers, tokens and orders, kept in dicts."""

    def __init__(self) -> None:
        self.products: dict[int, Product] = {}
        self.customers: dict[int, Customer] = {}
        self.orders: dict[int, Order] = {}
        self._passwords: dict[str, tuple[bytes, bytes, int]] = {}  # email -> salt, hash, id
        self._tokens: dict[str, int] = {}
        self._ids = {name: itertools.count(1) for name in ("product", "customer", "order")}
        for product in SEED:
            self.add_product(product)

    # products
    def product(self, product_id: int) -> Product:
        found = self.products.get(product_id)
        if found is None:
            raise HTTPException(404, f"No product {product_id}")
        return found

    def add_product(self, data: ProductIn) -> Product:
        product = Product(
            id=next(self._ids["product"]),
            name=data.name,
            price=data.price,
            currency=Currency.EUR,
            category=data.category,
            description=data.description,
            tags=list(data.tags),
            stock=data.stock,
        )
        self.products[product.id] = product
        return product

    def update_product(self, product_id: int, patch: ProductPatch) -> Product:
        product = self.product(product_id)
        changes = {k: v for k, v in patch.items() if k in ("name", "price", "stock", "tags")}
        for key, value in changes.items():
            setattr(product, key, value)
        return product

    def delete_product(self, product_id: int) -> None:
        self.product(product_id)
        del self.products[product_id]

    def search(
        self,
        q: str | None,
        category: Category | None,
        tags: list[str],
        min_price: float | None,
        max_price: float | None,
        in_stock: bool,
        sort: str,
    ) -> list[Product]:
        words = (q or "").lower().split()
        found = [
            p
            for p in self.products.values()
            if all(w in p.name.lower() for w in words)
            and (category is None or p.category == category)
            and all(t in p.tags for t in tags)
            and (min_price is None or p.price >= min_price)
            and (max_price is None or p.price <= max_price)
            and (not in_stock or p.stock > 0)
        ]
        key = (lambda p: p.name.lower()) if sort == "name" else (lambda p: p.price)
        return sorted(found, key=key, reverse=sort == "-price")

    # customers and tokens
    def add_customer(self, data: CustomerIn, salt: bytes, password_hash: bytes) -> Customer:
        email = data.email.lower()
        if email in self._passwords:
            raise HTTPException(409, "An account already uses this email")
        customer = Customer(
            id=next(self._ids["customer"]),
            email=email,
            name=data.name,
            address=data.address,
            newsletter=data.newsletter,
            created_at=datetime.now(timezone.utc),
        )
        self.customers[customer.id] = customer
        self._passwords[email] = (salt, password_hash, customer.id)
        return customer

    def credentials(self, email: str) -> tuple[bytes, bytes, int] | None:
        return self._passwords.get(email.lower())

    def issue_token(self, customer_id: int) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[_token_key(token)] = customer_id
        return token

    def customer_for_token(self, token: str) -> Customer | None:
        customer_id = self._tokens.get(_token_key(token))
        return self.customers.get(customer_id) if customer_id is not None else None

    # orders
    def place_order(self, customer_id: int, data: OrderIn) -> Order:
        wanted: dict[int, int] = {}
        for line in data.lines:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        for product_id, quantity in wanted.items():  # check everything before changing anything
            if self.product(product_id).stock < quantity:
                raise HTTPException(
                    409, f"Only {self.products[product_id].stock} left of {product_id}"
                )
        lines = []
        for product_id, quantity in wanted.items():
            product = self.products[product_id]
            product.stock -= quantity
            lines.append(OrderLine(product_id, product.name, quantity, product.price))
        order = Order(
            id=next(self._ids["order"]),
            customer_id=customer_id,
            status=OrderStatus.PENDING,
            lines=lines,
            total=round(sum(line.quantity * line.unit_price for line in lines), 2),
            note=data.note,
            created_at=datetime.now(timezone.utc),
        )
        self.orders[order.id] = order
        return order

    def order_of(self, order_id: int, customer_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.customer_id != customer_id:  # others' orders do not exist
            raise HTTPException(404, f"No order {order_id}")
        return order

    def set_status(self, order_id: int, status: OrderStatus) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"No order {order_id}")
        if status is OrderStatus.CANCELLED:
            return self.cancel(order)
        if status not in _TRANSITIONS[order.status]:
            raise HTTPException(
                409, f"An order cannot go from {order.status.value} to {status.value}"
            )
        order.status = status
        return order

    def cancel(self, order: Order) -> Order:
        if OrderStatus.CANCELLED not in _TRANSITIONS[order.status]:
            raise HTTPException(409, f"A {order.status.value} order cannot be cancelled")
        for line in order.lines:
            product = self.products.get(line.product_id)
            if product is not None:
                product.stock += line.quantity
        order.status = OrderStatus.CANCELLED
        return order


__all__ = ("Store", "store")

store = Store()
