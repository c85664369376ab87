"""The document of examples/shop: valid OpenAPI 3.1, with golden checks on key parts."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from covet.testing import TestClient

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def shop() -> Any:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return importlib.import_module("examples.shop.app").app


@pytest.fixture(scope="module")
def doc(shop: Any) -> dict[str, Any]:
    with TestClient(shop) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    validate(document)
    return document


def schema_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_paths_and_operation_ids(doc: dict[str, Any]) -> None:
    ops = {
        (path, method): op["operationId"]
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert ops == {
        ("/health", "get"): "health",
        ("/products", "get"): "list_products",
        ("/products", "post"): "create_product",
        ("/products/recently-viewed", "get"): "recently_viewed",
        ("/products/{product_id}", "get"): "get_product",
        ("/products/{product_id}", "patch"): "update_product",
        ("/products/{product_id}", "delete"): "delete_product",
        ("/products/{product_id}/image", "post"): "upload_image",
        ("/customers", "post"): "sign_up",
        ("/customers", "get"): "list_customers",
        ("/customers/me", "get"): "me",
        ("/auth/token", "post"): "login",
        ("/orders", "post"): "place_order",
        ("/orders", "get"): "list_orders",
        ("/orders/{order_id}", "get"): "get_order",
        ("/orders/{order_id}/cancel", "post"): "cancel_order",
        ("/orders/{order_id}/status", "put"): "set_order_status",
        ("/products/{product_id}/reviews", "post"): "add_review",
        ("/products/{product_id}/reviews", "get"): "list_reviews",
    }
    assert [t["name"] for t in doc["tags"]] == [
        "products",
        "customers",
        "orders",
        "reviews",
        "meta",
    ]


def test_search_parameters(doc: dict[str, Any]) -> None:
    params = {p["name"]: p for p in doc["paths"]["/products"]["get"]["parameters"]}
    assert list(params) == [
        "q", "category", "tags", "min_price", "max_price", "in_stock", "sort", "limit", "offset", "x-currency",
    ]  # fmt: skip
    assert params["category"]["schema"] == {"$ref": "#/components/schemas/Category"}
    assert params["tags"] == {
        "name": "tags",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}, "default": []},
        "style": "form",
        "explode": True,
        "description": "Products having all these tags.",
    }
    assert params["sort"]["schema"] == {
        "enum": ["name", "price", "-price"],
        "type": "string",
        "default": "name",
    }
    assert params["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
    }
    assert params["x-currency"]["in"] == "header"
    assert params["x-currency"]["schema"] == {
        "$ref": "#/components/schemas/Currency",
        "default": "EUR",
    }
    cookie = doc["paths"]["/products/recently-viewed"]["get"]["parameters"][0]
    assert (cookie["name"], cookie["in"], cookie["schema"]["type"]) == (
        "recently_viewed",
        "cookie",
        "string",
    )


def test_models_required_lists_and_enums(doc: dict[str, Any]) -> None:
    product_in = schema_of(doc, "ProductIn")
    assert product_in["required"] == ["name", "price", "category"]
    assert product_in["properties"]["price"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 100000,
    }
    assert product_in["properties"]["tags"]["maxItems"] == 10
    assert product_in["properties"]["tags"]["items"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 30,
    }
    assert schema_of(doc, "Category")["enum"] == ["electronics", "books", "garden", "toys"]
    assert schema_of(doc, "OrderStatus") == {
        "title": "OrderStatus",
        "enum": ["pending", "paid", "shipped", "cancelled"],
        "type": "string",
        "description": "Where an order is in its life.",
    }
    address = schema_of(doc, "Address")  # TypedDict: line2 is not required
    assert address["required"] == ["street", "city", "postal_code", "country"]
    assert set(address["properties"]) == {"street", "city", "postal_code", "country", "line2"}
    assert "required" not in schema_of(doc, "ProductPatch")  # total=False
    order = schema_of(doc, "Order")
    assert order["properties"]["lines"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/OrderLine"},
    }
    assert order["properties"]["status"] == {"$ref": "#/components/schemas/OrderStatus"}
    assert order["properties"]["note"] == {"type": ["string", "null"]}
    assert schema_of(doc, "OrderIn")["properties"]["lines"]["minItems"] == 1
    customer_in = schema_of(doc, "CustomerIn")
    assert customer_in["properties"]["address"] == {"$ref": "#/components/schemas/Address"}
    assert "password" not in schema_of(doc, "Customer")["properties"]
    review_in = schema_of(doc, "ReviewIn")  # pydantic
    assert review_in["properties"]["rating"]["minimum"] == 1
    assert review_in["properties"]["rating"]["maximum"] == 5


def test_bodies_and_responses(doc: dict[str, Any]) -> None:
    create = doc["paths"]["/products"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductIn"
    }
    assert sorted(create["responses"]) == ["201", "400", "401", "422"]
    upload = doc["paths"]["/products/{product_id}/image"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]
    assert upload["schema"]["properties"]["image"]["format"] == "binary"
    assert upload["schema"]["required"] == ["image"]
    assert upload["encoding"] == {"image": {"contentType": "image/png, image/jpeg, image/webp"}}
    login = doc["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded"]
    delete = doc["paths"]["/products/{product_id}"]["delete"]["responses"]
    assert delete["204"] == {"description": "No Content"}
    assert delete["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    listing = doc["paths"]["/orders"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert listing == {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}


def test_security(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"] == {
        "adminKey": {
            "type": "apiKey",
            "name": "X-API-Key",
            "in": "header",
            "description": "Key of the catalogue team.",
        },
        "customerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "Token from sign-up or POST /auth/token.",
        },
    }
    paths = doc["paths"]
    assert paths["/products"]["post"]["security"] == [{"adminKey": []}]
    assert paths["/orders"]["post"]["security"] == [{"customerToken": []}]
    assert paths["/products/{product_id}/reviews"]["post"]["security"] == [{"customerToken": []}]
    assert "security" not in paths["/products"]["get"]
    assert "401" not in paths["/products"]["get"]["responses"]
    unauthorized = paths["/orders"]["get"]["responses"]["401"]
    assert "WWW-Authenticate" in unauthorized["headers"]
