"""``StaticFiles``: serve files from directories or package resources, safely.

    app.mount("/static", StaticFiles(directory="static"), name="static")

Path safety: the request path is split into segments and refused (404) if any segment is
empty, ``.`` or ``..`` (also when still percent-encoded, e.g. ``%2e%2e``), or contains a
backslash, a NUL or other control character, a ``:`` (drive letters, NTFS streams), or
an encoded ``/``. The joined path must then stay inside the directory.

Symlink policy: with ``follow_symlinks=False`` (default) the *resolved* path (every
symlink followed) must lie inside the directory's resolved path, so a link pointing out
of the tree is refused while links within it work. ``follow_symlinks=True`` trusts
every link found in the directory (only the unresolved path is checked): use it only
for trees whose contents you control.

Responses go through ``FileResponse`` (ETag, Last-Modified, 304, Range/206/416). With
``precompressed=True`` a ``.br`` or ``.gz`` sibling is sent instead when the client
accepts that encoding (``Content-Encoding``, ``Vary: Accept-Encoding``); range requests
always get the identity file. ``html=True`` serves ``index.html`` for directories
(redirecting ``/dir`` to ``/dir/``) and ``404.html`` for misses.

The lookup (a few ``stat`` calls, microseconds on a local disk) runs on the event loop;
file contents are read in the threadpool by ``FileResponse``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import mimetypes
import os
import stat
from collections.abc import Sequence
from urllib.parse import unquote

from covet._types import Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.http import FileResponse, JSONResponse, RedirectResponse, Response
from covet.http.datastructures import scope_path

__all__ = ("StaticFiles", "guess_media_type")

_EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
}
_UTF8_TYPES = frozenset(
    {"application/javascript", "application/json", "application/xml", "image/svg+xml",
     "application/manifest+json"}
)  # fmt: skip
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
_COMPRESSED_TYPES = {
    "gzip": "application/gzip",
    "br": "application/x-brotli",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
}
_BAD_CHARS = frozenset("\\:\x00") | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def guess_media_type(path: str) -> str:
    """Media type for ``path`` (well-known web types first), with ``charset=utf-8`` for text."""
    ext = os.path.splitext(path)[1].lower()
    guessed, encoding = mimetypes.guess_type(path)
    if encoding is not None:
        # "app.js.gz" requested directly is a gzip file, not JavaScript: without a
        # Content-Encoding the client must not be told it is the inner type.
        return _COMPRESSED_TYPES.get(encoding, "application/octet-stream")
    media_type = _EXTRA_TYPES.get(ext) or guessed or "application/octet-stream"
    if media_type.startswith("text/") or media_type in _UTF8_TYPES:
        media_type += "; charset=utf-8"
    return media_type


def _accepted_encodings(header: str) -> set[str]:
    accepted: set[str] = set()
    listed: set[str] = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = name.strip().lower()
        listed.add(coding)
        if q > 0:
            accepted.add(coding)
    if "*" in accepted:  # "*" covers only codings not named ("gzip;q=0, *" refuses gzip)
        accepted.update(c for c in ("br", "gzip") if c not in listed)
    return accepted


def safe_segments(path: str) -> list[str] | None:
    """The path's segments, or None if any of them is hostile (see the module docstring).

    A trailing slash yields a final empty segment (a directory request).
    """
    # Strip one leading slash only: "//host" must fail (empty segment), or the directory
    # redirect would send "Location: //host/", a protocol-relative URL to another site.
    segments = path.removeprefix("/").split("/") if path not in ("", "/") else [""]
    for i, segment in enumerate(segments):
        if segment == "":
            if i == len(segments) - 1:
                continue
            return None
        decoded = unquote(segment)
        if decoded in (".", "..") or segment in (".", ".."):
            return None
        if "/" in decoded or any(c in _BAD_CHARS for c in decoded):
            return None
    return segments


class StaticFiles:
    """An ASGI app serving files from ``directory`` and/or ``packages``.

    ``packages``: module names (files from their ``static/`` folder) or ``(module,
    folder)`` pairs. Directories are searched in order: ``directory`` first.
    ``cache_control`` is sent on every file response (None to omit).
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str] | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlinks: bool = False,
        cache_control: str | None = "public, max-age=3600",
        precompressed: bool = True,
    ) -> None:
        self.directory = os.fspath(directory) if directory is not None else None
        self.html = html
        self.follow_symlinks = follow_symlinks
        self.cache_control = cache_control
        self.precompressed = precompressed
        self.all_directories: list[str] = []
        if self.directory is not None:
            if check_dir and not os.path.isdir(self.directory):
                raise ImproperlyConfigured(f"static directory {self.directory!r} does not exist")
            self.all_directories.append(os.path.realpath(self.directory))
        for package in packages or ():
            self.all_directories.append(self._package_directory(package))
        if not self.all_directories:
            raise ImproperlyConfigured("StaticFiles needs directory= or packages=")
        self._hashes: dict[str, tuple[int, int, str]] = {}

    @staticmethod
    def _package_directory(package: str | tuple[str, str]) -> str:
        name, folder = (package, "static") if isinstance(package, str) else package
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ImproperlyConfigured(f"package {name!r} not found or not a package")
        for location in spec.submodule_search_locations:
            candidate = os.path.join(location, folder)
            if os.path.isdir(candidate):
                return os.path.realpath(candidate)
        raise ImproperlyConfigured(f"package {name!r} has no {folder!r} directory on disk")

    # -- lookup -----------------------------------------------------------------------

    def _resolve(self, root: str, segments: list[str]) -> str | None:
        """Join ``segments`` under ``root`` and apply the containment / symlink policy."""
        joined = os.path.join(root, *segments)
        normal = os.path.normpath(joined)
        if not (normal == root or normal.startswith(root + os.sep)):
            return None
        if not self.follow_symlinks:
            real = os.path.realpath(joined)
            if not (real == root or real.startswith(root + os.sep)):
                return None
        return normal

    def lookup_path(self, path: str) -> tuple[str, os.stat_result] | None:
        """Find ``path`` (a URL path below the mount): ``(filesystem path, stat)`` or None.

        Directories are returned as found; callers decide about ``index.html``.
        """
        segments = safe_segments(path)
        if segments is None:
            return None
        for root in self.all_directories:
            full = self._resolve(root, segments)
            if full is None:
                continue
            try:
                st = os.stat(full)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                return full, st
        return None

    def file_hash(self, path: str) -> str | None:
        """A short content hash of the file at URL ``path`` (for cache busting), or None."""
        found = self.lookup_path(path)
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        full, st = found
        cached = self._hashes.get(full)
        if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        digest = hashlib.sha256()
        with open(full, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                digest.update(chunk)
        short = digest.hexdigest()[:12]
        self._hashes[full] = (st.st_mtime_ns, st.st_size, short)
        return short

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        response = self._select(scope)
        await response(scope, receive, send)

    def _select(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return JSONResponse(
                {"error": "Method Not Allowed"}, 405, headers={"Allow": "GET, HEAD"}
            )
        path = scope_path(scope)[1]
        found = self.lookup_path(path)
        if found is not None and stat.S_ISDIR(found[1].st_mode):
            index = self._directory_index(scope, path, found[0])
            if isinstance(index, Response):
                return index
            found = index
        if found is None:
            return self._not_found()
        return self._file_response(scope, *found)

    def _directory_index(
        self, scope: Scope, path: str, full: str
    ) -> tuple[str, os.stat_result] | Response | None:
        if not self.html:
            return None
        index = os.path.join(full, "index.html")
        try:
            st = os.stat(index)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or self._resolve(full, ["index.html"]) is None:
            return None
        if not path.endswith("/"):
            root = scope.get("root_path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            target = root + path + "/" + ("?" + query if query else "")
            return RedirectResponse(target, status_code=307)
        return index, st

    def _not_found(self) -> Response:
        if self.html:
            found = self.lookup_path("404.html")
            if found is not None and stat.S_ISREG(found[1].st_mode):
                return FileResponse(
                    found[0],
                    status_code=404,
                    stat_result=found[1],
                    media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache"},
                )
        return JSONResponse({"error": "Not Found"}, 404)

    def _file_response(self, scope: Scope, full: str, st: os.stat_result) -> Response:
        media_type = guess_media_type(full)
        headers: dict[str, str] = {}
        if self.cache_control:
            headers["Cache-Control"] = self.cache_control
        if self.precompressed:
            headers["Vary"] = "Accept-Encoding"
            request_headers = dict(scope.get("headers", ()))
            accept = request_headers.get(b"accept-encoding")
            if accept and b"range" not in request_headers and not full.endswith((".gz", ".br")):
                accepted = _accepted_encodings(accept.decode("latin-1"))
                for encoding, suffix in _ENCODINGS:
                    if encoding in accepted:
                        sibling = self._sibling(full, suffix)
                        if sibling is not None:
                            headers["Content-Encoding"] = encoding
                            return FileResponse(
                                sibling[0],
                                headers=headers,
                                media_type=media_type,
                                stat_result=sibling[1],
                            )
        return FileResponse(full, headers=headers, media_type=media_type, stat_result=st)

    def _sibling(self, full: str, suffix: str) -> tuple[str, os.stat_result] | None:
        candidate = full + suffix
        root = next((r for r in self.all_directories if candidate.startswith(r + os.sep)), None)
        if root is None:
            return None
        if self._resolve(root, [os.path.relpath(candidate, root)]) is None:
            return None
        try:
            st = os.stat(candidate)
        except OSError:
            return None
        return (candidate, st) if stat.S_ISREG(st.st_mode) else None
