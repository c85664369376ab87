"""Server configuration: one dataclass holding every knob, validated once at start-up."""

from __future__ import annotations

import importlib
import logging
import os
import ssl
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

from covet._types import ASGIApp
from covet.exceptions import ImproperlyConfigured

__all__ = ("Config", "import_from_string", "resolve_app")

LoopSetting = Literal["auto", "asyncio", "uvloop"]
ParserSetting = Literal["auto", "python", "httptools"]
LifespanSetting = Literal["auto", "on", "off"]

LOG_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": 5,
}


def import_from_string(target: str) -> Any:
    """Import ``"package.module:attribute.path"`` and return the attribute."""
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise ImproperlyConfigured(
            f"Import string {target!r} must be in the form 'module:attribute', e.g. 'main:app'."
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise
        raise ImproperlyConfigured(f"Could not import module {module_name!r}.") from exc
    obj: Any = module
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError as exc:
            raise ImproperlyConfigured(
                f"Attribute {attrs!r} not found in module {module_name!r}."
            ) from exc
    return obj


def resolve_app(app: ASGIApp | str, app_dir: str | None = None) -> ASGIApp:
    """Return the ASGI callable for ``app`` (an object or an import string)."""
    if isinstance(app, str):
        if app_dir is not None:
            path = os.path.abspath(app_dir)
            if path not in sys.path:
                sys.path.insert(0, path)
        app = import_from_string(app)
    if not callable(app):
        raise ImproperlyConfigured(f"The ASGI application must be callable, got {app!r}.")
    return app


@dataclass
class Config:
    """Every setting of the built-in server.

    Sizes are bytes, timeouts seconds. Defaults suit production behind or without a
    proxy; tests shrink the timeouts.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    fd: int | None = None
    backlog: int = 2048
    workers: int = 1
    reuse_port: bool = False

    loop: LoopSetting = "auto"
    http_parser: ParserSetting = "auto"
    lifespan: LifespanSetting = "auto"
    root_path: str = ""
    server_header: bool = True
    date_header: bool = True
    access_log: bool = True
    log_level: str | None = None

    # limits (slow / hostile clients)
    max_request_line: int = 8190
    max_header_size: int = 16384
    max_headers: int = 100
    max_body_size: int | None = None
    max_pipelined_requests: int = 32
    flow_control_high_water: int = 65536

    # timeouts
    timeout_keep_alive: float = 5.0
    timeout_header: float = 10.0
    timeout_read: float = 30.0
    timeout_graceful_shutdown: float = 30.0
    timeout_websocket_close: float = 5.0

    # websockets
    ws_max_message_size: int = 16 * 1024 * 1024
    ws_max_frame_size: int = 16 * 1024 * 1024
    ws_ping_interval: float | None = 20.0
    ws_ping_timeout: float | None = 20.0
    ws_per_message_deflate: bool = True
    ws_compression_level: int = 6
    ws_compression_threshold: int = 128

    # TLS
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_keyfile_password: str | None = None
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: int = ssl.CERT_NONE
    ssl_ciphers: str = "TLSv1.2"

    # supervision
    worker_restart_delay: float = 0.5
    app_dir: str | None = None
    _httptools_found: bool | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ImproperlyConfigured("workers must be at least 1.")
        if self.loop not in ("auto", "asyncio", "uvloop"):
            raise ImproperlyConfigured(f"loop must be auto, asyncio or uvloop, not {self.loop!r}.")
        if self.http_parser not in ("auto", "python", "httptools"):
            raise ImproperlyConfigured(
                f"http_parser must be auto, python or httptools, not {self.http_parser!r}."
            )
        if self.lifespan not in ("auto", "on", "off"):
            raise ImproperlyConfigured(f"lifespan must be auto, on or off, not {self.lifespan!r}.")
        if self.log_level is not None and self.log_level.lower() not in LOG_LEVELS:
            raise ImproperlyConfigured(
                f"log_level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}."
            )
        for name in ("max_request_line", "max_header_size", "max_headers", "ws_max_message_size"):
            if getattr(self, name) <= 0:
                raise ImproperlyConfigured(f"{name} must be positive.")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile) and self.ssl_keyfile:
            raise ImproperlyConfigured("ssl_keyfile needs ssl_certfile.")

    @property
    def is_ssl(self) -> bool:
        return self.ssl_certfile is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """Build the server-side TLS context, or ``None`` without a certificate."""
        if self.ssl_certfile is None:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, self.ssl_keyfile_password)
        ctx.verify_mode = ssl.VerifyMode(self.ssl_cert_reqs)
        if self.ssl_ca_certs:
            ctx.load_verify_locations(self.ssl_ca_certs)
        if self.ssl_ciphers:
            ctx.set_ciphers(self.ssl_ciphers)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def use_httptools(self) -> bool:
        """Whether the httptools parser is used (``auto`` picks it when installed)."""
        if self.http_parser == "python":
            return False
        if self.http_parser == "auto" and self._httptools_found is not None:
            return self._httptools_found  # resolved once: this runs per connection
        try:
            import httptools  # noqa: F401
        except ImportError:
            if self.http_parser == "httptools":
                from covet.exceptions import MissingDependency

                raise MissingDependency("httptools", "fast") from None
            found = False
        else:
            found = True
        if self.http_parser == "auto":
            self._httptools_found = found
        return found

    def configure_logging(self) -> None:
        """Set the ``covet.server`` log level (handlers are the application's business)."""
        if self.log_level is None:
            return
        level = LOG_LEVELS[self.log_level.lower()]
        logging.getLogger("covet.server").setLevel(level)
        if not logging.getLogger().handlers:
            logging.basicConfig(format="%(levelname)s:     %(message)s", level=level)
