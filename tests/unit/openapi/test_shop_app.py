"""The shop example behaves as its README and its document say."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from covet.testing import TestClient

REPO = Path(__file__).resolve().parents[3]
ADDRESS = {"street": "12 Analytical St", "city": "London", "postal_code": "N1 9GU", "country": "GB"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    shop = importlib.import_module("examples.shop.app")
    importlib.import_module("examples.shop.store").store.__init__()  # a fresh catalogue
    with TestClient(shop.app) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"X-API-Key": importlib.import_module("examples.shop.auth").ADMIN_KEY}


def sign_up(client: TestClient, email: str = "ada@example.com") -> dict[str, str]:
    body = {"email": email, "name": "Ada", "password": "correct horse", "address": ADDRESS}
    response = client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_catalogue_search_and_currency(client: TestClient) -> None:
    page = client.get("/products", params={"tags": "gift", "sort": "-price"}).json()
    assert [p["name"] for p in page["items"]] == ["Wooden train set", "Copper watering can"]
    assert page["total"] == 2
    usd = client.get("/products/4", headers={"X-Currency": "USD"}).json()
    assert (usd["price"], usd["currency"]) == (37.8, "USD")
    assert (
        client.get("/products", params={"in_stock": "true", "category": "toys"}).json()["total"]
        == 0
    )
    assert client.get("/products", params={"limit": 0}).status_code == 422
    assert client.get("/products", headers={"X-Currency": "JPY"}).status_code == 422
    missing = client.get("/products/999")
    assert missing.status_code == 404 and missing.json()["error"] == "No product 999"


def test_recently_viewed_cookie(client: TestClient) -> None:
    assert client.get("/products/recently-viewed").json() == []
    viewed = client.get("/products/recently-viewed", cookies={"recently_viewed": "3,999,1"}).json()
    assert [p["id"] for p in viewed] == [3, 1]
    assert (
        client.get("/products/recently-viewed", cookies={"recently_viewed": "1,x"}).status_code
        == 422
    )


def test_admin_needs_the_key(client: TestClient, admin: dict[str, str]) -> None:
    product = {"name": "Desk lamp", "price": 39.9, "category": "electronics", "stock": 5}
    missing = client.post("/products", json=product)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "APIKey"
    wrong = client.post("/products", json=product, headers={"X-API-Key": "guess"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "Invalid API key"
    created = client.post("/products", json=product, headers=admin)
    assert created.status_code == 201 and created.json()["id"] == 6
    patched = client.patch("/products/6", json={"price": 35.0}, headers=admin).json()
    assert patched["price"] == 35.0 and patched["name"] == "Desk lamp"
    assert client.post("/products", json={**product, "price": -1}, headers=admin).status_code == 422
    assert client.delete("/products/6", headers=admin).status_code == 204
    assert client.delete("/products/6", headers=admin).status_code == 404


def test_image_upload(client: TestClient, admin: dict[str, str]) -> None:
    png = ("lamp.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    uploaded = client.post(
        "/products/1/image", files={"image": png}, data={"alt_text": "Keys"}, headers=admin
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["image"] == {
        "filename": "lamp.png",
        "content_type": "image/png",
        "size": 72,
        "alt_text": "Keys",
    }
    text = client.post(
        "/products/1/image", files={"image": ("a.txt", b"hi", "text/plain")}, headers=admin
    )
    assert text.status_code == 415
    assert (
        client.post("/products/1/image", headers=admin, data={"alt_text": "x"}).status_code == 422
    )


def test_sign_up_sign_in_and_orders(client: TestClient, admin: dict[str, str]) -> None:
    ada = sign_up(client)
    duplicate = client.post(
        "/customers",
        json={
            "email": "ADA@example.com",
            "name": "A",
            "password": "another one",
            "address": ADDRESS,
        },
    )
    assert duplicate.status_code == 409
    me = client.get("/customers/me", headers=ada).json()
    assert me["email"] == "ada@example.com" and "password" not in me
    token = client.post(
        "/auth/token", data={"username": "ada@example.com", "password": "correct horse"}
    )
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    wrong = client.post(
        "/auth/token", data={"username": "ada@example.com", "password": "wrong horse"}
    )
    assert wrong.status_code == 401
    assert (
        client.post(
            "/auth/token", data={"username": "nobody@example.com", "password": "x"}
        ).status_code
        == 401
    )

    order = client.post("/orders", json={"lines": [{"product_id": 1, "quantity": 2}]}, headers=ada)
    assert order.status_code == 201, order.text
    placed: dict[str, Any] = order.json()
    assert (placed["status"], placed["total"]) == ("pending", 178.0)
    assert client.get("/products/1").json()["stock"] == 23
    assert (
        client.post("/orders", json={"lines": [{"product_id": 5}]}, headers=ada).status_code == 409
    )  # stock 0
    assert client.post("/orders", json={"lines": []}, headers=ada).status_code == 422
    assert client.post("/orders", json={"lines": [{"product_id": 1}]}).status_code == 401
    bad_token = client.get("/orders", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401 and bad_token.json()["error"] == "Invalid token"

    bob = sign_up(client, "bob@example.com")
    assert client.get(f"/orders/{placed['id']}", headers=bob).status_code == 404  # not his
    assert [o["id"] for o in client.get("/orders", headers=ada).json()] == [placed["id"]]

    paid = client.put(f"/orders/{placed['id']}/status", json={"status": "paid"}, headers=admin)
    assert paid.json()["status"] == "paid"
    back = client.put(f"/orders/{placed['id']}/status", json={"status": "pending"}, headers=admin)
    assert back.status_code == 409
    cancelled = client.post(f"/orders/{placed['id']}/cancel", headers=ada).json()
    assert cancelled["status"] == "cancelled"
    assert client.get("/products/1").json()["stock"] == 25  # stock returned
    assert client.post(f"/orders/{placed['id']}/cancel", headers=ada).status_code == 409


def test_reviews_with_pydantic(client: TestClient) -> None:
    pytest.importorskip("pydantic")
    ada = sign_up(client)
    review = client.post("/products/2/reviews", json={"rating": 5, "title": "Quiet"}, headers=ada)
    assert review.status_code == 201, review.text
    assert review.json()["author"] == "Ada"
    assert (
        client.post(
            "/products/2/reviews", json={"rating": 9, "title": "!"}, headers=ada
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/products/999/reviews", json={"rating": 1, "title": "?"}, headers=ada
        ).status_code
        == 404
    )
    listed = client.get("/products/2/reviews", params={"min_rating": 4}).json()
    assert [r["title"] for r in listed][-1] == "Quiet"
