"""The installable app: manifest, service worker and the offline shells it precaches."""

import json
import re

import pytest


def _status(client, url) -> int:
    with client.get(url) as response:  # static files stream from disk: close them
        return response.status_code


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["theme_color"] and manifest["name"] == "Clearpath"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert _status(client, icon["src"]) == 200


def _service_worker(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    return response.text


def test_service_worker_precaches_a_shell_that_exists(client):
    source = _service_worker(client)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", source).group(1))
    assert "/offline/capture" in precache and "/outbox" in precache
    assert any(url.startswith("/assets/js/outbox.") for url in precache)
    for url in precache:
        assert _status(client, url) == 200, url


def test_cache_version_changes_with_an_app_update(app, client):
    before = re.search(r'const VERSION = "(\w+)"', _service_worker(client)).group(1)
    app.config["ASSET_VERSION_SALT"] = "next release"
    after = re.search(r'const VERSION = "(\w+)"', _service_worker(client)).group(1)
    assert before != after


@pytest.mark.parametrize("url", ["/offline", "/offline/capture", "/outbox", "/offline/leave-behind"])
def test_shells_are_public_and_hold_no_user_data(client, as_role, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    # Precached perhaps while sign-in runs: a cookie set here could land after sign-in's.
    assert "Set-Cookie" not in anonymous.headers
    as_role("sales_rep")
    signed_in = client.get(url).text
    # The shell is cached for whoever uses the device next: it must not name anybody.
    assert "sales_rep@example.test" not in anonymous.text
    assert "<script>" not in signed_in


def test_capture_forms_go_through_the_outbox(client, as_role):
    as_role("sales_rep")
    assert "data-outbox" in client.get("/capture?hcp=H1").text
    assert "data-outbox" in client.get("/offline/capture").text


def test_reference_names_every_code(client, as_role):
    as_role("sales_rep")
    reference = client.get("/api/v1/reference").json
    assert reference["roles"]["frm"] == "Field reimbursement manager"
    assert reference["categories"]["access"] and reference["channels"]["leave_behind"]
    assert reference["brands"] == [{"code": "ONC", "name": "Oncora"}]
    assert [s["code"] for s in reference["adoption_stages"]][:2] == ["unaware", "aware"]
