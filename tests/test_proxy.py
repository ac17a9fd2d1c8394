"""Behind a load balancer (TRUSTED_PROXIES=1) the client's own address and scheme count;
reached directly (the default), a forged X-Forwarded-For changes nothing."""

import pytest

from webapp.extensions import limiter

from .conftest import Config, app_on
from .test_security import THROTTLED, _events


@pytest.fixture(params=[0, 1], ids=["direct", "behind-one-proxy"])
def app(request):
    class Deployed(Config):
        TRUSTED_PROXIES = request.param
        RATELIMIT_ENABLED = True
        LOGIN_LIMIT_PER_ADDRESS = "3 per minute"
        LOGIN_LIMIT_PER_ACCOUNT = "100 per minute"

    for app in app_on(Deployed):
        limiter.init_app(app)
        yield app


def _fail(client, n, forwarded_for):
    return client.post("/login", data={"email": f"guess{n}@example.test", "password": "wrong"},
                       headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
                       environ_base={"REMOTE_ADDR": "10.0.0.1"})


def test_the_per_address_limit_counts_the_client_not_the_proxy(app, client, world):
    behind_proxy = app.config["TRUSTED_PROXIES"] == 1
    for n in range(3):
        assert _fail(client, n, f"203.0.113.{n}").status_code == 422
    fourth = _fail(client, 3, "203.0.113.9")
    if behind_proxy:
        # Four different clients behind one balancer: none of them is throttled.
        assert fourth.status_code == 422
        assert _events("sign_in_failed")[-1].detail["ip"] == "203.0.113.9"
    else:
        # Reached directly, the header is the client's own claim: the socket's address counts.
        assert fourth.status_code == 429 and THROTTLED in fourth.text
        assert {e.detail["ip"] for e in _events("sign_in_failed")} == {"10.0.0.1"}


def test_the_scheme_the_proxy_saw_turns_hsts_on(app, client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    has_hsts = "Strict-Transport-Security" in response.headers
    assert has_hsts is (app.config["TRUSTED_PROXIES"] == 1)
