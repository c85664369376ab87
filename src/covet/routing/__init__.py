"""Routing: path templates with typed converters, route records, the compiled route table."""

from covet.routing.convertors import Convertor, get_convertor, register_convertor
from covet.routing.resolve import MethodTable, RouteTable, url_path_for
from covet.routing.router import Router
from covet.routing.routes import BaseRoute, Mount, Route, WebSocketRoute

__all__ = (
    "BaseRoute",
    "Convertor",
    "MethodTable",
    "Mount",
    "Route",
    "RouteTable",
    "Router",
    "WebSocketRoute",
    "get_convertor",
    "register_convertor",
    "url_path_for",
)
