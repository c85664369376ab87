"""Uploaded files and parsed form data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from tempfile import SpooledTemporaryFile
from typing import IO, TYPE_CHECKING

from covet.concurrency import run_in_threadpool
from covet.http._multidict import ImmutableMultiDict

if TYPE_CHECKING:
    from covet.http.datastructures import Headers

__all__ = ("FormData", "UploadFile")


class UploadFile:
    """A file received in a multipart form.

    ``filename`` is the name the client sent, unmodified and untrusted: it may contain
    ``../`` or backslashes. CovetPy never uses it as a path; if you store the file on
    disk, choose the name yourself (or take ``os.path.basename`` of a sanitised copy).

    The content lives in ``file`` (a ``SpooledTemporaryFile``: memory first, a temporary
    file past the spool threshold). The async methods only hop to the threadpool once
    the data has been rolled to disk.
    """

    __slots__ = ("file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        size: int | None = None,
        headers: Headers | None = None,
        spool_max_size: int = 1024 * 1024,
    ) -> None:
        from covet.http.datastructures import Headers

        self.file: IO[bytes] = (
            file if file is not None else SpooledTemporaryFile(max_size=spool_max_size)  # noqa: SIM115
        )
        self.filename = filename
        self.size = size
        self.headers: Headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type`` header, if any."""
        return self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    async def write(self, data: bytes) -> None:
        """Append ``data`` (updates ``size``)."""
        if self.size is not None:
            self.size += len(data)
        if self._in_memory:
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining when negative)."""
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to ``offset`` from the start."""
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        """Close and discard the underlying file."""
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, "
            f"content_type={self.content_type!r})"
        )


class FormData(ImmutableMultiDict):
    """Parsed form fields: a multi-dict of ``str`` and ``UploadFile`` values.

    ``form[name]`` is the last value, ``form.getlist(name)`` all of them. Close it (or use
    ``async with request.form() as form``) to release uploaded files.
    """

    __slots__ = ()

    def __init__(
        self,
        items: Mapping[str, str | UploadFile]
        | Iterable[tuple[str, str | UploadFile]]
        | None = None,
    ) -> None:
        super().__init__(items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FormData):
            return NotImplemented
        return self._list == other._list

    __hash__ = None

    async def close(self) -> None:
        """Close every uploaded file in the form."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()
