"""Lazy package exports (layer 0): names imported on first use, so importing a package
stays cheap and a program pays only for the parts it touches."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ("lazy_exports",)


def lazy_exports(
    package: str, exports: Mapping[str, str], also: tuple[str, ...] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, exporting ``{name: module}`` lazily.

    A name whose module ends with ``.name`` is that module itself (``covet.status``);
    others are attributes of their module. A loaded name is stored in the package, so
    the lookup runs once per name. ``__dir__`` lists the exports and ``also``.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module.endswith("." + name) else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*exports, *also])

    return __getattr__, __dir__
