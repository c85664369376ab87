"""TimeoutMiddleware's shared per-loop timer: many requests, one timer, same behaviour."""

from __future__ import annotations

import asyncio

from mw_helpers import body_app, drive

from covet.middleware.timeout import TimeoutMiddleware


def _sleeper(delay: float) -> object:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await asyncio.sleep(delay)
        await body_app(b"done")(scope, receive, send)

    return app


async def test_concurrent_requests_time_out_independently() -> None:
    delays = {"/fast": 0.0, "/slow": 5.0, "/medium": 0.02}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await _sleeper(delays[scope["path"]])(scope, receive, send)  # type: ignore[operator]

    mw = TimeoutMiddleware(app, timeout=0.1)
    results = await asyncio.gather(
        drive(mw, path="/slow"), drive(mw, path="/fast"), drive(mw, path="/medium"), drive(mw, path="/slow")
    )
    assert [sent[0]["status"] for sent, _ in results] == [504, 200, 200, 504]


async def test_a_later_request_times_out_after_an_earlier_one_finished() -> None:
    mw = TimeoutMiddleware(_sleeper(5), timeout=0.05)
    fast = TimeoutMiddleware(body_app(b"ok"), timeout=0.05)
    assert (await drive(fast))[0][0]["status"] == 200
    sent, _ = await drive(mw)
    assert sent[0]["status"] == 504
    # the same instance keeps working after a timeout, for slow and fast requests alike
    assert (await drive(mw))[0][0]["status"] == 504


async def test_timeout_measured_from_each_request_start() -> None:
    mw = TimeoutMiddleware(_sleeper(0.06), timeout=0.1)
    first = asyncio.ensure_future(drive(mw))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(drive(mw))  # its deadline is 50 ms after the first's
    (a, _), (b, _) = await asyncio.gather(first, second)
    assert a[0]["status"] == 200 and b[0]["status"] == 200


async def test_finished_requests_do_not_pile_up_behind_a_slow_one() -> None:
    gate = asyncio.Event()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["path"] == "/slow":
            await gate.wait()
        await body_app(b"ok")(scope, receive, send)

    mw = TimeoutMiddleware(app, timeout=30)
    slow = asyncio.ensure_future(drive(mw, path="/slow"))
    await asyncio.sleep(0)
    for _ in range(500):
        assert (await drive(mw))[0][0]["status"] == 200
    watch = mw._watch
    assert watch is not None and watch.active == 1 and len(watch.entries) <= 2 * watch.active + 64
    gate.set()
    assert (await slow)[0][0]["status"] == 200
    assert watch.active == 0 and not watch.entries


def test_each_event_loop_gets_its_own_watch() -> None:
    mw = TimeoutMiddleware(_sleeper(5), timeout=0.03)
    ok = TimeoutMiddleware(body_app(b"ok"), timeout=1)
    for _ in range(2):  # a fresh loop each time, as TestClient and thread-per-loop servers do
        assert asyncio.run(drive(mw))[0][0]["status"] == 504
        assert asyncio.run(drive(ok))[0][0]["status"] == 200
