"""Fixtures for the server unit tests: both parsers, a recording handler."""

from __future__ import annotations

from typing import Any

import pytest

from covet.server.httptools_parser import HttpToolsRequestParser
from covet.server.parser import RequestHead, RequestParser

PARSERS = [RequestParser, HttpToolsRequestParser]


class Recorder:
    """A parser handler that records every callback."""

    def __init__(self) -> None:
        self.heads: list[RequestHead] = []
        self.bodies: list[bytearray] = []
        self.complete = 0

    def on_request(self, head: RequestHead) -> None:
        self.heads.append(head)
        self.bodies.append(bytearray())

    def on_body(self, data: bytes) -> None:
        self.bodies[-1] += data

    def on_message_complete(self) -> None:
        self.complete += 1


@pytest.fixture(params=PARSERS, ids=["python", "httptools"])
def parser_cls(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
