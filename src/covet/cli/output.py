"""Terminal output: ANSI colours on a terminal, plain text when piped, simple tables."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ("Style", "style_for")

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
METHOD_COLOURS = {
    "GET": "green",
    "HEAD": "dim",
    "POST": "yellow",
    "PUT": "blue",
    "PATCH": "cyan",
    "DELETE": "red",
    "OPTIONS": "dim",
    "WS": "magenta",
    "MOUNT": "dim",
}


def colour_enabled(stream: TextIO) -> bool:
    """Colours on a TTY, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces them."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class Style:
    """Writes to one stream, colouring only when the stream is a terminal."""

    def __init__(self, stream: TextIO, colour: bool | None = None) -> None:
        self.stream = stream
        self.colour = colour_enabled(stream) if colour is None else colour

    def paint(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles if s in _CODES)
        return f"\x1b[{codes}m{text}\x1b[0m" if codes else text

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")

    def error(self, text: str) -> None:
        self.write(self.paint("Error: ", "bold", "red") + text)

    def success(self, text: str) -> None:
        self.write(self.paint(text, "green"))

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], colour_column: int | None = None
    ) -> None:
        """Aligned columns; ``colour_column`` holds HTTP methods to colour."""
        widths = [len(h) for h in header]
        for row in rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        line = "  ".join(
            self.paint(h.ljust(w), "bold") for h, w in zip(header, widths, strict=True)
        )
        self.write(line.rstrip())
        self.write("  ".join("-" * w for w in widths))
        for row in rows:
            cells = []
            for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
                padded = cell.ljust(width)
                if i == colour_column:
                    first = cell.split(",")[0]
                    padded = self.paint(padded, METHOD_COLOURS.get(first, "bold"))
                cells.append(padded)
            self.write("  ".join(cells).rstrip())


def style_for(stream: TextIO | None = None) -> Style:
    return Style(stream or sys.stdout)
