"""Two uvicorn processes sharing one Redis see one session store."""

from __future__ import annotations

import httpx
import pytest
from mw_e2e_server import serve

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.redis]


def test_login_on_one_process_read_on_the_other(redis_url: str, redis_prefix: str) -> None:
    # one cookie jar: cookies for 127.0.0.1 go to both ports
    with (
        serve(2, MW_SESSION_REDIS_URL=redis_url, MW_SESSION_PREFIX=redis_prefix) as (first, second),
        httpx.Client() as client,
    ):
        token = client.get(first + "/me").json()["csrf"]
        r = client.post(first + "/login", data={"user": "alice", "csrf_token": token})
        assert r.status_code == 200, r.text
        a = client.get(first + "/me").json()
        b = client.get(second + "/me").json()
        assert a["pid"] != b["pid"]
        assert a["user"] == b["user"] == "alice"
        # the CSRF token lives in the shared session too: a form token from one
        # process is accepted by the other
        token_b = client.get(second + "/me").json()["csrf"]
        assert client.post(first + "/login", data={"user": "bob", "csrf_token": token_b}).status_code == 200
        assert client.get(second + "/me").json()["user"] == "bob"
