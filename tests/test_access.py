"""Every role against every route: who gets in, who is refused, and territory scope."""

import uuid

import pytest

from webapp.models import (
    ADMIN_ROLES,
    CAPTURE_ROLES,
    FEED_ROLES,
    FIELD_ROLES,
    LIBRARY_ROLES,
    USER_ROLES,
)

from .conftest import iso

HTMX = {"HX-Request": "true"}


def _routes(observation_id):
    """(method, url, headers, data, roles allowed, status when allowed); each call gives new
    call ids, so every role's capture is a call of its own."""
    capture = {"id": str(uuid.uuid4()), "hcp": "H1", "barrier": "ACC-PA-002", "observed_at": iso()}
    sync = {"observations": [{"id": str(uuid.uuid4()), "hcp": "H1",
                              "barriers": ["ACC-PA-002"], "observed_at": iso()}]}
    new_play = {"title": "Payer policy walk-through", "goal": "Fewer denials.",
                "channel_code": "face_to_face", "know": "Payer rules.", "use": "Policy summary."}
    return [
        ("GET", "/capture", {}, None, CAPTURE_ROLES, 200),
        ("GET", "/capture?hcp=H1", {}, None, CAPTURE_ROLES, 200),
        ("GET", "/capture/hcps?hcp_q=Patel", HTMX, None, CAPTURE_ROLES, 200),
        ("GET", "/capture/barriers?hcp=H1&q=prior", HTMX, None, CAPTURE_ROLES, 200),
        ("POST", "/capture", {}, capture, CAPTURE_ROLES, 303),
        ("GET", f"/observations/{observation_id}", {}, None, USER_ROLES, 200),
        ("GET", "/plays/ACC-PA-002", {}, None, USER_ROLES, 200),
        ("GET", "/plays/ACC-PA-002/leave-behind.pdf?hcp=H1", {}, None, USER_ROLES, 200),
        ("GET", "/feed", {}, None, FEED_ROLES, 200),
        ("GET", "/feed?category=access", HTMX, None, FEED_ROLES, 200),
        ("GET", "/feed/updates", HTMX, None, FEED_ROLES, 200),
        ("GET", "/safety", {}, None, ("drug_safety", "admin"), 200),
        ("GET", "/queue", {}, None, FIELD_ROLES, 200),
        ("GET", "/metrics?by=role", {}, None, USER_ROLES, 200),
        ("GET", "/capture/suggestions?hcp=H1&note=PA", HTMX, None, CAPTURE_ROLES, 200),
        ("POST", "/api/v1/suggestions", {}, {"text": "PA denied"}, USER_ROLES, 200),
        ("GET", "/api/v1/suggest-index", {}, None, USER_ROLES, 200),
        ("GET", "/api/v1/barriers?limit=2", {}, None, USER_ROLES, 200),
        ("GET", "/api/v1/hcps", {}, None, USER_ROLES, 200),
        ("GET", "/api/v1/reference", {}, None, USER_ROLES, 200),
        ("GET", "/api/v1/me", {}, None, USER_ROLES, 200),
        ("GET", "/api/v1/observations", {}, None, USER_ROLES, 200),
        ("POST", "/api/v1/observations", {}, sync, CAPTURE_ROLES, 200),
        ("GET", "/dashboard", {}, None, FEED_ROLES, 200),
        ("GET", "/dashboard?days=90", HTMX, None, FEED_ROLES, 200),
        ("GET", "/dashboard.pdf", {}, None, FEED_ROLES, 200),
        ("GET", "/feed/export.csv", {}, None, FEED_ROLES, 200),
        ("GET", "/hcps/H1", {}, None, USER_ROLES, 200),
        ("GET", "/library", {}, None, LIBRARY_ROLES, 200),
        ("GET", "/library?q=prior", HTMX, None, LIBRARY_ROLES, 200),
        ("GET", "/library/barriers/ACC-PA-002", {}, None, LIBRARY_ROLES, 200),
        ("GET", "/library/barriers/new", {}, None, LIBRARY_ROLES, 200),
        ("GET", "/library/barriers/ACC-PA-002/edit", {}, None, LIBRARY_ROLES, 200),
        ("GET", "/library/barriers/ACC-PA-002/plays/new", {}, None, LIBRARY_ROLES, 200),
        ("POST", "/library/barriers/ACC-PA-002/plays/new", {}, new_play, LIBRARY_ROLES, 303),
        ("GET", "/account", {}, None, USER_ROLES, 200),
        ("POST", "/account/tokens", {}, {"label": "CRM sync"}, USER_ROLES, 200),
        ("POST", "/account/sign-out-everywhere", {}, {}, USER_ROLES, 303),
        ("GET", "/admin/audit", {}, None, ADMIN_ROLES, 200),
        ("GET", "/admin/audit?action=sign_in", HTMX, None, ADMIN_ROLES, 200),
        ("GET", "/admin/audit.csv", {}, None, ADMIN_ROLES, 200),
        ("GET", "/admin/tokens", {}, None, ADMIN_ROLES, 200),
        ("GET", "/admin/tokens?q=rep", HTMX, None, ADMIN_ROLES, 200),
        ("POST", "/admin/sign-out-everywhere", {}, {"email": "frm@example.test"}, ADMIN_ROLES, 303),
    ]


def _call(client, method, url, headers, data):
    """The response, read to its end and closed (a streamed export ends its request)."""
    if url.startswith("/api/") and data is not None:
        response = client.open(url, method=method, headers=headers, json=data)
    else:
        response = client.open(url, method=method, headers=headers, data=data)
    response.get_data()
    response.close()
    return response


ROUTE_IDS = [f"{m} {u}" for m, u, *_ in _routes("OBS")]


def _anonymous_is_sent_to_sign_in(response, url, headers) -> bool:
    if url.startswith("/api/"):
        return response.status_code == 401 and bool(response.json["errors"]["_auth"])
    if headers:
        return response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
def test_every_role_on_every_route(client, as_role, observe, index):
    """The route as nobody, then as each role in turn: allowed roles get its status, the
    others a 403, and nobody is sent to sign in. One database per route, not per role: a role
    signs in over the one before, and each call it sends is its own."""
    observation = observe("sales_rep")
    method, url, headers, data, _allowed, _ok = _routes(observation.id)[index]
    assert _anonymous_is_sent_to_sign_in(_call(client, method, url, headers, data), url, headers)
    wrong = []
    for role in USER_ROLES:
        method, url, headers, data, allowed, ok_status = _routes(observation.id)[index]
        as_role(role)
        response = _call(client, method, url, headers, data)
        expected = ok_status if role in allowed else 403
        if response.status_code != expected:
            wrong.append((role, expected, response.status_code, response.text[:200]))
    assert wrong == []


def test_field_user_cannot_reach_another_territory(client, login, world, observe):
    in_t1 = observe("sales_rep", hcp="H1")
    login(world["users"]["sales_rep_t3"].email)
    assert client.get("/capture?hcp=H1").status_code == 404
    assert client.get("/capture/barriers?hcp=H1", headers=HTMX).status_code == 404
    assert client.get(f"/observations/{in_t1.id}").status_code == 404
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H1").status_code == 404
    found = client.get("/capture/hcps?hcp_q=Dr", headers=HTMX).text
    assert "Cleo Rossi" in found and "Ada Patel" not in found


def test_field_user_cannot_write_to_another_territory(client, login, world):
    from webapp.extensions import db
    from webapp.models import Observation

    login(world["users"]["sales_rep_t3"].email)
    response = client.post("/capture", data={
        "id": "0b7d0e38-0f57-4f2b-9f0a-2c1d3e4f5a6b", "hcp": "H1", "barrier": "ACC-PA-002",
        "observed_at": iso()})
    assert response.status_code == 422
    assert "No HCP with this id in your territory." in response.text
    assert db.session.scalar(db.select(db.func.count(Observation.id))) == 0


def test_district_manager_sees_their_district_only(client, as_role):
    as_role("district_manager")
    assert client.get("/capture?hcp=H2").status_code == 200  # T2 is in district D1
    assert client.get("/capture?hcp=H3").status_code == 404  # T3 is in district D2


def test_medical_insights_stay_behind_the_firewall(client, as_role, observe, login, world):
    medical = observe("msl", note="KOL asked about the dose-escalation cohort")
    commercial = observe("sales_rep", note="office staff swamped")
    as_role("hq_brand")
    feed = client.get("/feed").text
    assert "office staff swamped" in feed and "dose-escalation" not in feed
    assert client.get(f"/observations/{medical.id}").status_code == 404
    login(world["users"]["head_of_medical"].email)
    feed = client.get("/feed").text
    assert "dose-escalation" in feed and "office staff swamped" in feed
    assert client.get(f"/observations/{commercial.id}").status_code == 200


FRAGMENTS = [(m, u, allowed) for m, u, headers, _d, allowed, _s in _routes("OBS")
             if headers == HTMX]


@pytest.mark.parametrize(("method", "url", "allowed"), FRAGMENTS, ids=[u for _, u, _ in FRAGMENTS])
def test_a_fragment_url_opened_without_htmx_is_a_whole_page(client, as_role, method, url, allowed):
    """A bookmarked or reloaded fragment URL, or a browser without JavaScript: the page."""
    as_role(next(iter(allowed)))
    response = client.open(url, method=method, follow_redirects=True)
    assert response.status_code == 200
    assert response.text.lstrip().lower().startswith("<!doctype html")
