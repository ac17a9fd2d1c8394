"""Static files under hashed names with a year's caching, and compressed responses."""

import gzip
import re

import brotli
import pytest


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)


def _get(client, url, **kwargs):
    """GET a file and close it (a sent file holds its handle until closed)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def test_pages_link_hashed_assets_cached_for_a_year(client):
    urls = _asset_urls(client.get("/login").text)
    assert any(re.fullmatch(r"/assets/js/app\.[0-9a-f]{10}\.js", url) for url in urls)
    assert len(urls) >= 8
    for url in urls:
        response = _get(client, url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_name_from_before_an_update_gets_the_current_file_uncached(client):
    current = _get(client, next(u for u in _asset_urls(client.get("/login").text)
                                if "/js/app." in u))
    old = _get(client, "/assets/js/app.0123456789.js")
    assert old.status_code == 200 and old.data == current.data
    assert old.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/js/app.js", "/assets/js/nothing.0123456789.js",
                                  "/assets/../webapp/config.0123456789.py",
                                  "/assets/%2e%2e/app.0123456789.py"])
def test_unknown_or_unhashed_or_outside_names_are_404(client, path):
    assert _get(client, path).status_code == 404


def test_text_responses_are_compressed_when_the_browser_accepts_it(client):
    plain = client.get("/login")
    packed = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    assert "Accept-Encoding" in packed.headers["Vary"]
    script = next(u for u in _asset_urls(plain.text) if "htmx" in u)
    raw = _get(client, script)
    packed = _get(client, script, headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == raw.data
    assert len(packed.data) < len(raw.data) / 3
    # A repeat visit that does ask is answered with 304 and no body.
    again = _get(client, script, headers={"Accept-Encoding": "br, gzip",
                                          "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
