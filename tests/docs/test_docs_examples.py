"""Run the ```python blocks of the documentation pages, so the docs stay true.

Conventions (for doc writers):

* Each page's ```python blocks run in page order in one namespace: a later block may
  use names defined by an earlier one. The namespace is a fresh module
  (``docs_<page>``), so models, dataclasses and ``from __future__ import annotations``
  behave as in a real module.
* Blocks run in a temporary working directory (they may write ``app.db``,
  ``static/``, ``templates/``...). Top-level ``await`` is allowed: the page has its own
  event loop, closed at the end.
* Put an HTML comment on the line just before a fence to change how the block runs:

  - ``<!-- skip: reason -->``: not run (a snippet that needs a real server, or a
    deliberately partial example). Prefer complete, runnable snippets.
  - ``<!-- needs: redis -->`` (or ``postgres``, ``mysql``): run only when that service
    is available (through the fixtures in ``tests/conftest.py``), else the block is
    skipped. The literal default URL in the block is replaced by the fixture's URL;
    for Redis every ``prefix="..."`` is put under the test's unique key prefix, whose
    keys are deleted afterwards.
  - ``<!-- setup: python code -->``: not shown to readers: runs (in the page's
    namespace) before the block, to provide what the snippet assumes exists (a file,
    a helper). Keep it short.

Fences in other languages (``console``, ``jinja``, plain) are never run. Every block
is compiled with its Markdown line numbers, so a failure points at the page line.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import linecache
import re
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

# The pages whose snippets are run (the others are still being rewritten).
PAGES = (
    "index.md",
    "application.md",
    "routing.md",
    "requests-responses.md",
    "websockets.md",
    "cache.md",
    "ratelimit.md",
    "static-and-templates.md",
    "database.md",
    "orm.md",
    "migrations.md",
    "testing.md",
    "cli.md",
    "server.md",
    "sessions.md",
    "openapi.md",
    "handlers.md",
    "monitoring.md",
    "auth.md",
)

SERVICES = {
    "redis": ("redis_url", "redis://127.0.0.1:6379/0"),
    "postgres": ("postgres_url", "postgresql://postgres@127.0.0.1:5432/test"),
    "mysql": ("mysql_url", "mysql://root@127.0.0.1:3306/test"),
}

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
_DIRECTIVE = re.compile(r"^<!--\s*(skip|needs|setup)\s*(?::\s*(.*?))?\s*-->\s*$", re.S)


@dataclass
class Block:
    """One fenced ```python block of a page."""

    page: str
    line: int  # 1-based line of the first code line
    source: str
    skip: str | None = None
    needs: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)


def extract_blocks(page: str, text: str) -> list[Block]:
    """The ```python blocks of ``text`` with the directives written above them."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        directive = _DIRECTIVE.match(stripped)
        if directive:
            pending.append((directive.group(1), (directive.group(2) or "").strip()))
            i += 1
            continue
        fence = _FENCE.match(stripped)
        if not fence:
            if stripped:
                pending = []
            i += 1
            continue
        marker, lang = fence.group(1), fence.group(2).lower()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(marker):
            end += 1
        if end == len(lines):
            raise ValueError(f"{page}:{i + 1}: unclosed code fence")
        if lang in ("python", "py"):
            block = Block(page, start + 1, "\n".join(lines[start:end]) + "\n")
            for kind, arg in pending:
                if kind == "skip":
                    block.skip = arg or "marked <!-- skip -->"
                elif kind == "needs":
                    block.needs += [s.strip() for s in arg.split(",") if s.strip()]
                else:
                    block.setup.append(arg)
            unknown = set(block.needs) - set(SERVICES)
            if unknown:
                raise ValueError(f"{page}:{i + 1}: unknown service(s) {sorted(unknown)}")
            blocks.append(block)
        pending = []
        i = end + 1
    return blocks


def _compile(source: str, filename: str, first_line: int) -> types.CodeType:
    """Compile with top-level await allowed, numbering lines as on the page."""
    tree = ast.parse(source, filename, "exec")
    ast.increment_lineno(tree, first_line - 1)
    lines = ["\n"] * (first_line - 1) + source.splitlines(True)
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return compile(tree, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def _run(
    code: types.CodeType, namespace: dict[str, object], loop: asyncio.AbstractEventLoop
) -> None:
    if code.co_flags & inspect.CO_COROUTINE:
        loop.run_until_complete(eval(code, namespace))
    else:
        exec(code, namespace)


@pytest.fixture
def page_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[types.ModuleType]:
    """A fresh module for the page's namespace, in a temporary working directory.

    The page starts with no Database and no ORM model registered; Databases, ORM
    models, path convertors and modules the page creates are unregistered afterwards.
    """
    from covet.db import database as db_registry
    from covet.orm import base as orm_base
    from covet.routing import convertors

    page = request.node.callspec.params["page"]
    name = "docs_" + re.sub(r"\W", "_", page.removesuffix(".md"))
    module = types.ModuleType(name)
    module.__file__ = str(DOCS / page)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules[name] = module
    databases_before = dict(db_registry._registry)
    # a page is a program of its own: its first Database is the default (modules that
    # other tests imported, such as the examples, keep theirs registered meanwhile)
    db_registry._registry.clear()
    # ...and sees only its own models (create_all() would otherwise create the tables of
    # every model other tests defined in the page's database)
    models_before = {key: list(models) for key, models in orm_base.registry.items()}
    orm_base.registry.clear()
    modules_before = set(sys.modules)
    convertors_before = dict(convertors._CONVERTORS)
    try:
        yield module
    finally:
        sys.modules.pop(name, None)
        convertors._CONVERTORS.clear()
        convertors._CONVERTORS.update(convertors_before)
        page_modules = {name}
        for mod in set(sys.modules) - modules_before:
            if str(tmp_path) in str(getattr(sys.modules[mod], "__file__", None) or ""):
                page_modules.add(mod)
                del sys.modules[mod]
        db_registry._registry.clear()
        db_registry._registry.update(databases_before)
        for model_name, models in list(orm_base.registry.items()):
            kept = [m for m in models if m.__module__ not in page_modules]  # imported ones
            models_before.setdefault(model_name, []).extend(kept)
        orm_base.registry.clear()
        orm_base.registry.update({k: v for k, v in models_before.items() if v})


def _disconnect_all(loop: asyncio.AbstractEventLoop, before: Mapping[str, Any]) -> None:
    from covet.db import database as db_registry

    for db in list(db_registry._registry.values()):
        if db not in before.values() and db.is_connected and db._loop is loop:
            loop.run_until_complete(db.disconnect())


@pytest.mark.parametrize("page", PAGES)
def test_page(page: str, page_module: types.ModuleType, request: pytest.FixtureRequest) -> None:
    """Every ```python block of the page runs, in order, without error."""
    from covet.db import database as db_registry

    blocks = extract_blocks(page, (DOCS / page).read_text(encoding="utf-8"))
    namespace = page_module.__dict__
    before = dict(db_registry._registry)
    loop = asyncio.new_event_loop()
    skipped: list[str] = []
    ran = 0
    try:
        for block in blocks:
            where = f"docs/{page}:{block.line}"
            if block.skip is not None:
                skipped.append(f"{where} ({block.skip})")
                continue
            source = block.source
            unavailable = []
            for service in block.needs:
                fixture, default_url = SERVICES[service]
                try:
                    url = request.getfixturevalue(fixture)
                except pytest.skip.Exception as exc:
                    unavailable.append(f"{service}: {exc}")
                    continue
                source = source.replace(default_url, url)
                if service == "redis":
                    prefix = request.getfixturevalue("redis_prefix")
                    source = source.replace('prefix="', f'prefix="{prefix}')
            if unavailable:
                skipped.append(f"{where} ({'; '.join(unavailable)})")
                continue
            for n, setup in enumerate(block.setup):
                _run(_compile(setup, f"{where} <setup {n}>", 1), namespace, loop)
            _run(_compile(source, f"docs/{page}", block.line), namespace, loop)
            ran += 1
    finally:
        try:
            _disconnect_all(loop, before)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    if skipped:
        print(f"{page}: skipped", *skipped, sep="\n  ")
    if blocks and not ran:
        pytest.skip(f"{page}: every block was skipped: {'; '.join(skipped)}")


def test_extract_blocks_directives() -> None:
    """The parser reads fences and the directives just above them, nothing else."""
    text = "\n".join(
        [
            "# Title",
            "```python",
            "a = 1",
            "```",
            "<!-- skip: needs a server -->",
            "```python",
            "serve()",
            "```",
            "<!-- skip -->",
            "prose in between cancels the directive",
            "```py",
            "b = a + 1",
            "```",
            "<!-- needs: redis, postgres -->",
            "<!-- setup: import os -->",
            "```python",
            "c = 3",
            "```",
            "```console",
            "$ covet run app:app",
            "```",
            "````python",
            "```python",
            "nested = True",
            "````",
        ]
    )
    blocks = extract_blocks("t.md", text)
    assert [(b.line, b.source, b.skip, b.needs, b.setup) for b in blocks] == [
        (3, "a = 1\n", None, [], []),
        (7, "serve()\n", "needs a server", [], []),
        (12, "b = a + 1\n", None, [], []),
        (17, "c = 3\n", None, ["redis", "postgres"], ["import os"]),
        (23, "```python\nnested = True\n", None, [], []),
    ]
    with pytest.raises(ValueError, match="unclosed"):
        extract_blocks("t.md", "```python\nx = 1\n")
    with pytest.raises(ValueError, match="unknown service"):
        extract_blocks("t.md", "<!-- needs: oracle -->\n```python\nx = 1\n```\n")


def test_compile_keeps_page_line_numbers() -> None:
    """A failing snippet's traceback names the Markdown line."""
    code = _compile("x = 1\nraise RuntimeError('boom')\n", "docs/x.md", 40)
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError) as info:
            _run(code, {}, loop)
    finally:
        loop.close()
    assert info.traceback[-1].lineno + 1 == 41


def test_top_level_await_runs_on_the_page_loop() -> None:
    namespace: dict[str, object] = {}
    loop = asyncio.new_event_loop()
    try:
        _run(
            _compile("import asyncio\nawait asyncio.sleep(0)\nx = 5\n", "docs/y.md", 1),
            namespace,
            loop,
        )
    finally:
        loop.close()
    assert namespace["x"] == 5
