"""The service container: typed singletons (and per-request services) injected by type.

    app.provide(Database, lambda: Database(url))        # plain factory
    app.provide(Client, make_client)                    # async factory
    app.provide(Pool, pool_lifetime)                    # (async) generator: teardown at shutdown

A handler parameter annotated with a provided type receives the instance. Factories may
themselves take parameters annotated with other provided (app-scope) types.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from covet.concurrency import run_in_threadpool
from covet.exceptions import ImproperlyConfigured

__all__ = ("Container",)

_SCOPES = ("app", "request")


@dataclass(slots=True)
class _Provider:
    type_: Any
    factory: Callable[..., Any]
    scope: str
    needs: dict[str, Any]


class Container:
    """Registry of typed services with app (singleton) or request lifetime."""

    def __init__(self) -> None:
        self._providers: dict[Any, _Provider] = {}
        self._instances: dict[Any, Any] = {}
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock: asyncio.Lock | None = None
        self.started = False

    def provide(self, type_: Any, factory: Callable[..., Any] | None = None, *, scope: str = "app") -> None:
        """Register ``factory`` (default: ``type_`` itself) as the provider of ``type_``.

        ``factory`` may be a callable, an async callable, an (async) generator function
        or return an (async) context manager; its exit runs at shutdown ("app") or after
        the response ("request").
        """
        if scope not in _SCOPES:
            raise ImproperlyConfigured(f"unknown provider scope {scope!r}: use 'app' or 'request'")
        if self.started and scope == "app":
            raise ImproperlyConfigured(f"cannot provide {type_!r} after the container has started")
        factory = factory if factory is not None else type_
        if not callable(factory):
            raise ImproperlyConfigured(f"the provider for {type_!r} must be callable")
        self._providers[type_] = _Provider(type_, factory, scope, self._needs(factory))

    def __contains__(self, type_: object) -> bool:
        try:
            return type_ in self._providers
        except TypeError:
            return False

    def scope_of(self, type_: Any) -> str:
        return self._providers[type_].scope

    def _needs(self, factory: Callable[..., Any]) -> dict[str, Any]:
        try:
            sig = inspect.signature(factory)
        except (TypeError, ValueError):
            return {}
        wanted = [
            name
            for name, p in sig.parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is p.empty
        ]
        if not wanted:
            return {}
        target = factory.__init__ if inspect.isclass(factory) else factory
        label = getattr(factory, "__qualname__", factory)
        try:
            hints = typing.get_type_hints(target)
        except NameError as exc:
            raise ImproperlyConfigured(f"provider {label!r}: cannot resolve an annotation: {exc}") from exc
        except TypeError:
            hints = {}
        needs: dict[str, Any] = {}
        for name in wanted:
            ann = hints.get(name)
            if ann is None:
                raise ImproperlyConfigured(
                    f"provider {label!r}: parameter {name!r} needs an annotation naming a provided type"
                )
            needs[name] = ann
        return needs

    async def startup(self) -> None:
        """Create every app-scope singleton, in registration order (dependencies first)."""
        if self.started:
            return
        self._stack = contextlib.AsyncExitStack()
        self.started = True
        try:
            for type_, prov in list(self._providers.items()):
                if prov.scope == "app" and type_ not in self._instances:
                    await self._create_singleton(prov, ())
        except BaseException:
            await self.shutdown()
            raise

    async def shutdown(self) -> None:
        """Tear down singletons in reverse creation order."""
        stack, self._stack = self._stack, None
        self._instances.clear()
        self.started = False
        if stack is not None:
            await stack.aclose()

    def get(self, type_: Any) -> Any:
        """The singleton for ``type_`` (the container must have started)."""
        try:
            return self._instances[type_]
        except KeyError:
            if type_ not in self._providers:
                raise LookupError(f"no provider registered for {type_!r}") from None
            raise LookupError(
                f"{type_!r} is not created yet: call `await container.startup()` (the app's lifespan does)"
            ) from None

    async def resolve(self, type_: Any, stack: contextlib.AsyncExitStack | None = None) -> Any:
        """Instance of ``type_``: the singleton (created on first use if needed) or a new
        request-scope instance whose teardown is pushed on ``stack``."""
        inst = self._instances.get(type_, _NONE)
        if inst is not _NONE:
            return inst
        prov = self._providers.get(type_)
        if prov is None:
            raise LookupError(f"no provider registered for {type_!r}")
        if prov.scope == "request":
            if stack is None:
                raise ImproperlyConfigured(f"request-scoped {type_!r} needs a request")
            return await self._call(prov, stack, ())
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._stack is None:
                self._stack = contextlib.AsyncExitStack()
            if type_ in self._instances:
                return self._instances[type_]
            return await self._create_singleton(prov, ())

    async def _create_singleton(self, prov: _Provider, chain: tuple[Any, ...]) -> Any:
        assert self._stack is not None
        inst = await self._call(prov, self._stack, chain)
        self._instances[prov.type_] = inst
        return inst

    async def _call(self, prov: _Provider, stack: contextlib.AsyncExitStack, chain: tuple[Any, ...]) -> Any:
        if prov.type_ in chain:
            names = " -> ".join(getattr(t, "__qualname__", repr(t)) for t in (*chain, prov.type_))
            raise ImproperlyConfigured(f"circular providers: {names}")
        kwargs = {}
        for name, ann in prov.needs.items():
            if ann in self._instances:
                kwargs[name] = self._instances[ann]
                continue
            sub = self._providers.get(ann)
            if sub is None:
                raise ImproperlyConfigured(
                    f"provider for {prov.type_!r}: parameter {name!r} needs {ann!r}, which is not provided"
                )
            if sub.scope == "app":
                kwargs[name] = await self._create_singleton(sub, (*chain, prov.type_))
            else:
                kwargs[name] = await self._call(sub, stack, (*chain, prov.type_))
        factory = prov.factory
        if inspect.isasyncgenfunction(factory):
            return await stack.enter_async_context(contextlib.asynccontextmanager(factory)(**kwargs))
        if inspect.isgeneratorfunction(factory):
            return stack.enter_context(contextlib.contextmanager(factory)(**kwargs))
        if inspect.iscoroutinefunction(factory):
            result = await factory(**kwargs)
        elif inspect.isclass(factory):
            result = factory(**kwargs)
        else:
            result = await run_in_threadpool(factory, **kwargs) if prov.scope == "request" else factory(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(prov.type_, type) and isinstance(result, prov.type_):
            return result
        if hasattr(result, "__aenter__") and hasattr(result, "__aexit__"):
            return await stack.enter_async_context(result)
        if hasattr(result, "__enter__") and hasattr(result, "__exit__"):
            return stack.enter_context(result)
        return result


_NONE = object()
