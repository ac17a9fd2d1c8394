"""Free text becomes suggested barriers: the API, the capture fragment, and learning."""

import pytest

from webapp.suggest.ranker import analyse_query, stem, within_one_edit

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "note, expected",
    [
        ("staff say basically every PA for this drug gets bounced", "ACC-PA-002"),
        ("product isnt in the EMR order set so nobody can find it", "SYS-EMR-001"),
        ("uninsured pts, dr never heard of the PAP", "AFF-PAP-001"),
    ],
)
def test_api_suggests_the_labelled_barrier_in_the_top_three(client, as_role, note, expected):
    as_role("sales_rep")
    response = client.post("/api/v1/suggestions", json={"text": note, "hcp": "H1"})
    assert response.status_code == 200
    suggestions = response.json["suggestions"]
    assert 1 <= len(suggestions) <= 5
    assert expected in [s["code"] for s in suggestions[:3]]
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)


def test_api_validates_text_and_scope(client, as_role):
    as_role("sales_rep")
    assert client.post("/api/v1/suggestions", json={"text": ""}).status_code == 422
    assert client.post("/api/v1/suggestions", json={"text": "x" * 1001}).status_code == 422
    assert client.post("/api/v1/suggestions", json=["PA"]).status_code == 422
    out_of_scope = client.post("/api/v1/suggestions", json={"text": "PA denied", "hcp": "H3"})
    assert out_of_scope.status_code == 404


def test_words_the_library_never_uses_give_no_suggestions(client, as_role):
    as_role("sales_rep")
    response = client.post("/api/v1/suggestions", json={"text": "zzz qqq"})
    assert response.json == {"suggestions": []}


def test_capture_fragment_suggests_as_the_rep_types(client, as_role):
    as_role("sales_rep")
    response = client.get("/capture/suggestions?hcp=H1&note=PA+keeps+bouncing", headers=HTMX)
    assert response.status_code == 200 and 'id="suggestions"' in response.text
    assert "<html" not in response.text
    assert 'name="barrier" value="ACC-PA-' in response.text


def test_without_javascript_the_filter_button_shows_suggestions_too(client, as_role):
    as_role("sales_rep")
    page = client.get("/capture?hcp=H1&note=copay+too+high").text
    assert "Suggested from your note" in page


def test_confirmed_notes_teach_the_ranker(client, as_role, observe):
    as_role("sales_rep")
    quirky = "the zebra form again"
    before = client.post("/api/v1/suggestions", json={"text": quirky}).json["suggestions"]
    assert "OPS-STF-001" not in [s["code"] for s in before[:1]]
    for _ in range(2):
        observe(barriers=["OPS-STF-001"], note="zebra form piling up")
    after = client.post("/api/v1/suggestions", json={"text": quirky}).json["suggestions"]
    assert after[0]["code"] == "OPS-STF-001"


def test_shorthand_typos_and_stems():
    assert analyse_query("PA for pts") == ["prior", "author", "patient"]
    assert stem("denials") == "denial" and stem("verification") == "verific"
    assert within_one_edit("definately", "definitely") and not within_one_edit("coverage", "cvrage")
    assert within_one_edit("suport", "support") and within_one_edit("recieve", "receive")
