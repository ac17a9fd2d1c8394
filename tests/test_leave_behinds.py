"""The one-page leave-behind PDF, personalised for the practice."""

import io

from pypdf import PdfReader

from webapp.extensions import db
from webapp.models import AuditEvent

from .sql import verbs, with_statements


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_leave_behind_is_a_one_page_personalised_pdf(client, as_role):
    as_role("sales_rep")
    response = client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text, pages = _text(response.data)
    assert pages == 1
    assert "Harbor Oncology Associates" in text
    assert "For healthcare professionals only" in text
    assert "Approval code CP-ACC-PA-002-v1" in text
    audit = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "leave_behind_printed"))
    assert audit.entity_id == "ACC-PA-002" and audit.detail["hcp"] == "H1"


def test_pdf_needs_an_hcp_in_scope(client, as_role):
    as_role("sales_rep")
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf").status_code == 404
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H3").status_code == 404
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=NOPE").status_code == 404


def test_play_without_leave_behind_has_no_pdf(client, as_role):
    as_role("msl")
    response = client.get("/plays/CLN-BIO-001/leave-behind.pdf?hcp=H1")
    assert response.status_code == 404
    assert "This play has no approved leave-behind." in response.text


def test_hq_can_print_for_any_territory(client, as_role):
    as_role("hq_brand")
    response = client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H3")
    assert response.status_code == 200
    assert "Lakeside Skin Clinic" in _text(response.data)[0]


def test_an_unchanged_leave_behind_is_rendered_once_and_a_changed_one_again(client, as_role, world):
    from webapp.leave_behinds.services import LEAVE_BEHINDS

    LEAVE_BEHINDS.cache_clear()
    as_role("sales_rep")
    url = "/plays/ACC-PA-002/leave-behind.pdf?hcp=H1"
    first, second = client.get(url), client.get(url)
    assert first.data == second.data
    assert (LEAVE_BEHINDS.cache_info().misses, LEAVE_BEHINDS.cache_info().hits) == (1, 1)
    # Both prints are audited, cached or not.
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "leave_behind_printed")) == 2

    world["hcps"]["H1"].account = "Harbor Oncology West"
    db.session.commit()
    renamed = client.get(url)
    assert LEAVE_BEHINDS.cache_info().misses == 2
    assert "Harbor Oncology West" in _text(renamed.data)[0]


def test_a_print_reads_nothing_after_its_audit_event_is_written(client, as_role):
    as_role("sales_rep")
    url = "/plays/ACC-PA-002/leave-behind.pdf?hcp=H1"
    client.get(url)  # the PDF is rendered and kept
    response, ran = with_statements(lambda: client.get(url))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'inline; filename="ACC-PA-002-H1.pdf"'
    statements = verbs(ran)
    # The audit event is the print's last statement: nothing is loaded again after the commit.
    assert statements[-1] == "INSERT" and statements.count("INSERT") == 1, statements
