"""OpenAPI 3.1 from handler signatures, plus Swagger UI and ReDoc pages.

``generate_openapi(app)`` builds the document; ``install(app)`` adds ``/openapi.json``,
``/docs`` and ``/redoc`` (the application calls it when ``openapi_url`` is set).
``SchemaRegistry`` turns Python types into JSON Schema for other uses (the CLI, tests).
"""

from __future__ import annotations

from covet.openapi.generator import OPENAPI_VERSION, generate_openapi, openapi_path
from covet.openapi.schema import SchemaRegistry
from covet.openapi.views import find_assets, install

__all__ = (
    "OPENAPI_VERSION",
    "SchemaRegistry",
    "find_assets",
    "generate_openapi",
    "install",
    "openapi_path",
)
