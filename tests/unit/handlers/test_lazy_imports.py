"""The handlers package never imports an optional extra unless the application uses it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_stdlib_routes_do_not_import_extras() -> None:
    code = """
        import dataclasses, sys
        from covet.handlers import compile_route, Container

        @dataclasses.dataclass
        class Item:
            name: str

        class Route:
            path = "/"
            param_convertors = {}
            dependencies = []
            status_code = None
            response_model = ...
            response_class = None

            @staticmethod
            async def endpoint(item: Item, q: int = 1) -> Item:
                return item

        class App:
            dependencies = []
            container = Container()

        compile_route(Route(), App())
        print(sorted(m for m in ("pydantic", "msgspec") if m in sys.modules))
    """
    assert _run(code) == "[]"
