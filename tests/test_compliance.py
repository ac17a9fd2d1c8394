"""The compliance guard: patient identifiers never stored, adverse events flagged for safety."""

import uuid

import pytest

from webapp.capture.compliance import check_note
from webapp.extensions import db
from webapp.models import Observation

from .conftest import iso


@pytest.mark.parametrize(
    "note, what",
    [
        ("pt Smith missed 2 doses", "name “Smith”"),
        ("Mrs. Jane Doe cant afford the copay", "name “Jane Doe”"),
        ("patient Okafor asked about the hub", "name “Okafor”"),
        ("DOB 03/14/1962, PA denied", "date of birth"),
        ("born on March 4, 1958, still waiting", "date of birth"),
        ("MRN 0048812 on the denial letter", "medical record number"),
        ("call her back on 617-555-0199", "phone number"),
        ("daughter's email jane.doe@example.com for the forms", "e-mail address"),
        ("SSN 123-45-6789 was on the form", "social security number"),
    ],
)
def test_patient_identifiers_are_found(note, what):
    check = check_note(note)
    assert any(what in found for found in check.identifiers), check.identifiers


@pytest.mark.parametrize(
    "note",
    [
        "Dr Patel says PA keeps bouncing",
        "pt relies on her son for injections",
        "office wants Patient Assistance Program forms",
        "3 pts waiting 2 wks, 45 min on hold with the hub",
        "dr wants data in pts over 75, NNT 12",
        "follow up on 12/03 with the office manager",
    ],
)
def test_ordinary_field_notes_pass(note):
    assert check_note(note).identifiers == []


@pytest.mark.parametrize(
    "note, term",
    [
        ("pt got a bad rash after the 2nd dose", "rash"),
        ("one pt was hospitalized after the first infusion", "hospitalized"),
        ("dr said a patient died last month on therapy", "died"),
        ("pt became pregnant while on it", "pregnant"),
        ("possible overdose, took double the dose", "overdose"),
        ("pen malfunctioned, needle did not retract", "malfunctioned"),
        ("several side effects reported by her pts", "side effects"),
    ],
)
def test_possible_adverse_events_are_flagged(note, term):
    check = check_note(note)
    assert check.safety_flag and any(term in found for found in check.adverse_event_terms)


@pytest.mark.parametrize("note", ["PA keeps bouncing", "dr worried about cost",
                                  "office reorganised the front desk",
                                  "new hospitalist group, none knew the pathway"])
def test_ordinary_notes_are_not_flagged(note):
    assert not check_note(note).safety_flag


def _count():
    return db.session.scalar(db.select(db.func.count(Observation.id)))


def test_form_refuses_patient_names_inline_and_stores_nothing(client, as_role):
    as_role("sales_rep")
    response = client.post("/capture", data={
        "id": str(uuid.uuid4()), "hcp": "H1", "barrier": "ACC-PA-002",
        "observed_at": iso(), "note": "pt Smith denied twice"})
    assert response.status_code == 422
    assert "Remove patient details before saving: the patient&#39;s name “Smith”" in response.text
    assert _count() == 0


def test_api_rejects_the_item_with_the_message_under_note(client, as_role):
    as_role("sales_rep")
    item = {"id": str(uuid.uuid4()), "hcp": "H1", "barriers": ["ACC-PA-002"],
            "observed_at": iso(), "note": "call 617-555-0199"}
    result = client.post("/api/v1/observations", json={"observations": [item]}).json["results"][0]
    assert result["status"] == "rejected"
    assert "a phone number “617-555-0199”" in result["errors"]["note"][0]
    assert _count() == 0


def test_adverse_event_is_saved_flagged_and_reaches_drug_safety(client, as_role, login, world):
    as_role("msl")
    observation_id = str(uuid.uuid4())
    response = client.post("/capture", data={
        "id": observation_id, "hcp": "H1", "barrier": "CLN-BIO-001",
        "observed_at": iso(), "note": "dr mentioned a pt hospitalized after dose 2"},
        follow_redirects=True)
    assert response.status_code == 200
    assert "report it within 24 hours" in response.text
    assert db.session.get(Observation, observation_id).safety_flag is True
    items = client.get("/api/v1/observations").json["items"]
    assert [i["safety_flag"] for i in items] == [True]
    client.post("/logout")
    login(world["users"]["drug_safety"].email)
    queue = client.get("/safety").text
    # MSL-authored, yet drug safety sees it: the firewall never hides an adverse event.
    assert f'id="safety-{observation_id}"' in queue and "hospitalized" in queue
    assert "Msl (Medical science liaison" in queue
