"""The JSON API: bearer tokens, the barrier library, pagination and errors."""

from webapp.auth.services import issue_token
from webapp.extensions import db
from webapp.models import ApiToken


def _bearer(world, role="sales_rep"):
    return {"Authorization": f"Bearer {issue_token(world['users'][role])}"}


def test_api_needs_a_session_or_a_bearer_token(client, world):
    response = client.get("/api/v1/barriers")
    assert response.status_code == 401
    assert response.json == {"errors": {"_auth": ["Sign in or send a valid bearer token."]}}
    bad = client.get("/api/v1/barriers", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_tokens_are_stored_hashed(world):
    token = issue_token(world["users"]["sales_rep"])
    stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert token not in stored and ApiToken.hash(token) in stored


def test_barriers_have_the_documented_shape(client, world):
    response = client.get("/api/v1/barriers?q=overwhelmed", headers=_bearer(world))
    assert response.status_code == 200
    items = response.json["items"]
    item = next(i for i in items if i["code"] == "ACC-PA-002")
    assert {"code", "name", "category", "journey_stage", "adoption_stages", "primary_role",
            "compliant_for", "play"} <= set(item)
    assert item["category"] == "access" and item["journey_stage"] == "prior_authorization"
    assert item["compliant_for"] == ["sales_rep", "frm", "pal"]
    play = item["play"]
    assert {"title", "goal", "channel", "know", "use", "tell", "leave_behind"} <= set(play)
    assert play["leave_behind"]["title"] and play["leave_behind"]["steps"]


def test_barrier_without_leave_behind_has_null(client, world):
    items = client.get("/api/v1/barriers?q=borderline", headers=_bearer(world)).json["items"]
    assert next(i for i in items if i["code"] == "CLN-BIO-001")["play"]["leave_behind"] is None


def test_barriers_filter_by_category_and_stage(client, world):
    response = client.get(
        "/api/v1/barriers?category=access&journey_stage=prior_authorization&limit=500",
        headers=_bearer(world),
    )
    items = response.json["items"]
    assert items and all(
        i["category"] == "access" and i["journey_stage"] == "prior_authorization" for i in items
    )


def test_barriers_paginate_with_a_cursor(client, world):
    headers = _bearer(world)
    seen, url = [], "/api/v1/barriers?limit=40"
    while url:
        page = client.get(url, headers=headers).json
        seen += [i["code"] for i in page["items"]]
        url = f"/api/v1/barriers?limit=40&cursor={page['next']}" if page["next"] else None
    assert len(seen) == len(set(seen)) == 175
    assert seen == sorted(seen)


def test_bad_query_gets_422_with_field_messages(client, world):
    response = client.get("/api/v1/barriers?limit=0", headers=_bearer(world))
    assert response.status_code == 422
    assert "limit" in response.json["errors"]


def test_unknown_api_path_is_json(client, world):
    response = client.get("/api/v1/nothing-here", headers=_bearer(world))
    assert response.status_code == 404 and "errors" in response.json


def test_hcps_lists_the_callers_territory_only(client, world):
    items = client.get("/api/v1/hcps", headers=_bearer(world)).json["items"]
    assert [i["external_id"] for i in items] == ["H1"]
    assert items[0]["account"] == "Harbor Oncology Associates" and items[0]["territory"] == "T1"
    everyone = client.get("/api/v1/hcps?limit=2", headers=_bearer(world, "hq_brand")).json
    assert [i["external_id"] for i in everyone["items"]] == ["H1", "H2"]
    rest = client.get(f"/api/v1/hcps?cursor={everyone['next']}", headers=_bearer(world, "hq_brand"))
    assert [i["external_id"] for i in rest.json["items"]] == ["H3"] and rest.json["next"] is None


def test_me_tells_who_is_signed_in(client, as_role):
    as_role("frm")
    me = client.get("/api/v1/me").json
    assert me["role"] == "frm" and me["territory"] == "T1" and me["can_capture"] is True
    assert me["csrf_token"]


def test_nul_characters_are_refused_not_a_500(client, world, as_role):
    headers = _bearer(world)
    assert client.get("/api/v1/hcps?cursor=%00", headers=headers).status_code == 400
    response = client.post("/api/v1/suggestions", json={"text": "PA\x00"}, headers=headers)
    assert response.status_code == 422 and "NUL" in response.json["errors"]["text"][0]
    as_role("sales_rep")
    assert client.get("/capture/hcps?hcp_q=%00", headers={"HX-Request": "true"}).status_code == 400


def test_the_api_is_rate_limited_per_user(app, client, world):
    from webapp.extensions import limiter

    app.config.update(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    limiter.init_app(app)
    rep, frm = _bearer(world), _bearer(world, "frm")
    for _ in range(3):
        assert client.get("/api/v1/me", headers=rep).status_code == 200
    refused = client.get("/api/v1/me", headers=rep)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json == {"errors": {"_request": [
        "Too many requests: at most 3 per 1 minute. Wait a moment, then try again."]}}
    # The limit is per user: a colleague on the same address is not slowed down.
    assert client.get("/api/v1/me", headers=frm).status_code == 200
