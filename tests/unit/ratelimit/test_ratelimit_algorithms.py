"""Rate-limit algorithms with an injected clock: no sleeping."""

from __future__ import annotations

import pytest

from covet.exceptions import ImproperlyConfigured
from covet.ratelimit import MemoryBackend, Rate, RateLimitResult, parse_rate


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("100/minute", 100, 60),
        ("5/second", 5, 1),
        ("10/5s", 10, 5),
        ("3 per hour", 3, 3600),
        ("1/day", 1, 86400),
        ("7/ 2 minutes", 7, 120),
        ("2/1.5s", 2, 1.5),
    ],
)
def test_parse_rate(text: str, limit: int, period: float) -> None:
    assert parse_rate(text) == Rate(limit, period)


@pytest.mark.parametrize("text", ["", "abc", "0/minute", "10/fortnight", "-1/s", "10", "10/0s"])
def test_parse_rate_rejects_garbage(text: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


async def hits(backend: MemoryBackend, n: int, algo: str, rate: str = "5/minute") -> list[bool]:
    return [(await backend.hit("k", parse_rate(rate), algo)).allowed for _ in range(n)]


async def test_fixed_window_counts_and_resets(clock: FakeClock) -> None:
    clock.now = 600.0  # window start for 60s windows
    backend = MemoryBackend(clock=clock)
    assert await hits(backend, 6, "fixed_window") == [True] * 5 + [False]
    denied = await backend.hit("k", parse_rate("5/minute"), "fixed_window")
    assert denied == RateLimitResult(False, 5, 0, 60.0, 60.0)
    clock.advance(59.9)
    assert not (await backend.hit("k", parse_rate("5/minute"), "fixed_window")).allowed
    clock.advance(0.1)
    result = await backend.hit("k", parse_rate("5/minute"), "fixed_window")
    assert result.allowed and result.remaining == 4 and result.reset_after == pytest.approx(60)


async def test_fixed_window_remaining_and_reset_headers(clock: FakeClock) -> None:
    clock.now = 630.0
    backend = MemoryBackend(clock=clock)
    first = await backend.hit("k", parse_rate("3/minute"), "fixed_window")
    assert first.headers() == [
        ("ratelimit-limit", "3"),
        ("ratelimit-remaining", "2"),
        ("ratelimit-reset", "30"),
    ]
    await hits(backend, 2, "fixed_window", "3/minute")
    denied = await backend.hit("k", parse_rate("3/minute"), "fixed_window")
    assert dict(denied.headers())["retry-after"] == "30"


async def test_sliding_window_weights_previous_window(clock: FakeClock) -> None:
    clock.now = 600.0
    backend = MemoryBackend(clock=clock)
    rate = "10/minute"
    assert await hits(backend, 10, "sliding_window", rate) == [True] * 10
    # a fixed window would allow 10 more right after the boundary; the sliding one
    # still counts 10 * (1 - 15/60) = 7.5 of the previous window
    clock.advance(75)  # 15 s into the next window
    assert await hits(backend, 3, "sliding_window", rate) == [True, True, False]
    denied = await backend.hit("k", parse_rate(rate), "sliding_window")
    # 7.5 + 2 = 9.5; need weighted prev <= 10 - 2 - 1 = 7  -> 10*(1-t/60) <= 7 -> t >= 18
    assert denied.retry_after == pytest.approx(3.0)
    clock.advance(3.0)
    assert (await backend.hit("k", parse_rate(rate), "sliding_window")).allowed


async def test_sliding_window_forgets_after_two_windows(clock: FakeClock) -> None:
    clock.now = 600.0
    backend = MemoryBackend(clock=clock)
    assert await hits(backend, 11, "sliding_window", "10/minute") == [True] * 10 + [False]
    clock.advance(120)
    assert await hits(backend, 10, "sliding_window", "10/minute") == [True] * 10


async def test_sliding_window_full_current_window_waits_for_next(clock: FakeClock) -> None:
    clock.now = 600.0
    backend = MemoryBackend(clock=clock)
    await hits(backend, 4, "sliding_window", "4/minute")
    denied = await backend.hit("k", parse_rate("4/minute"), "sliding_window")
    # next window starts in 60 s; there prev=4 must decay to 3: 4*(1-t/60) <= 3 -> t=15
    assert not denied.allowed and denied.retry_after == pytest.approx(75)


async def test_token_bucket_burst_then_steady_refill(clock: FakeClock) -> None:
    backend = MemoryBackend(clock=clock)
    rate = "6/minute"  # one token every 10 s
    assert await hits(backend, 7, "token_bucket", rate) == [True] * 6 + [False]
    denied = await backend.hit("k", parse_rate(rate), "token_bucket")
    assert denied.retry_after == pytest.approx(10) and denied.reset_after == pytest.approx(60)
    clock.advance(9.9)
    assert await hits(backend, 1, "token_bucket", rate) == [False]
    clock.advance(0.1)
    assert await hits(backend, 2, "token_bucket", rate) == [True, False]
    clock.advance(1000)  # refill is capped at capacity
    assert await hits(backend, 7, "token_bucket", rate) == [True] * 6 + [False]


async def test_token_bucket_cost(clock: FakeClock) -> None:
    backend = MemoryBackend(clock=clock)
    rate = parse_rate("10/second")
    assert (await backend.hit("k", rate, "token_bucket", cost=8)).remaining == 2
    denied = await backend.hit("k", rate, "token_bucket", cost=3)
    assert not denied.allowed and denied.retry_after == pytest.approx(0.1)


async def test_keys_and_algorithms_are_independent(clock: FakeClock) -> None:
    backend = MemoryBackend(clock=clock)
    rate = parse_rate("1/minute")
    assert (await backend.hit("a", rate)).allowed
    assert not (await backend.hit("a", rate)).allowed
    assert (await backend.hit("b", rate)).allowed
    assert (await backend.hit("a", rate, "token_bucket")).allowed
    await backend.reset("a")
    assert (await backend.hit("a", rate)).allowed


async def test_memory_backend_is_bounded_and_expires(clock: FakeClock) -> None:
    backend = MemoryBackend(max_keys=100, clock=clock)
    rate = parse_rate("5/second")
    for i in range(10_000):  # a flood of distinct (spoofed) keys
        await backend.hit(f"k{i}", rate)
    assert len(backend) == 100
    clock.advance(5)
    for i in range(30):
        await backend.hit(f"fresh{i}", rate)
    assert len(backend) < 100  # expired entries were swept


async def test_unknown_algorithm_is_a_configuration_error(clock: FakeClock) -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown rate-limit algorithm"):
        await MemoryBackend(clock=clock).hit("k", parse_rate("1/s"), "leaky")
