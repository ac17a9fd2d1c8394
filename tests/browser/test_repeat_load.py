"""A repeat load asks the network for nothing of the shell: hashed assets come from the
browser's cache or the service worker's, never from the server."""

import pytest

from .conftest import REP_EMAIL
from .test_capture_flow import TABLET, open_page, sign_in

pytestmark = pytest.mark.browser


def test_a_repeat_load_requests_no_asset_from_the_server(browser, live_server, live_app):
    served = []
    app_wsgi = live_app.wsgi_app

    def counting(environ, start_response):
        served.append(environ["PATH_INFO"])
        return app_wsgi(environ, start_response)

    live_app.wsgi_app = counting
    try:
        with open_page(browser, live_server, TABLET) as (page, errors):
            sign_in(page, REP_EMAIL, r"/capture$")
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.goto("/capture")
            page.wait_for_load_state("networkidle")
            served.clear()
            for _ in range(2):
                page.reload()
                page.wait_for_load_state("networkidle")
            again = [path for path in served if path.startswith(("/assets/", "/static/"))]
            assert errors == []
    finally:
        live_app.wsgi_app = app_wsgi
    assert again == [], again
    assert "/capture" in served  # the page itself is fresh from the server every time
