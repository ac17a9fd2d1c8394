"""Input that used to reach a 500: ids no column can hold, CR/LF in redirect targets, header
characters in file names."""

import pytest

from webapp.extensions import db


@pytest.mark.parametrize("url", [
    "/handoffs/99999999999999999999/accept",
    "/runs/99999999999999999999/outcome",
    "/library/plays/99999999999999999999/approve",
])
def test_an_id_no_row_can_have_is_a_404(client, as_role, url):
    as_role("admin" if "library" in url else "frm")
    assert client.post(url).status_code == 404


def test_a_next_with_cr_lf_redirects_home_instead(client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    as_role("sales_rep")
    client.post(f"/observations/{observation.id}/plays/ACC-PA-002/runs", data={"leave_behind": "given"})
    run_id = db.session.execute(db.text("SELECT id FROM play_run")).scalar()
    response = client.post(f"/runs/{run_id}/outcome",
                           data={"outcome": "resolved", "next": "/queue\r\nSet-Cookie: x=1"})
    assert response.status_code == 303 and response.headers["Location"] == "/queue"
    assert "Set-Cookie" not in response.headers or "x=1" not in response.headers["Set-Cookie"]


def test_a_pdf_file_name_keeps_header_characters_out(client, as_role, world):
    hcp = world["hcps"]["H1"]
    hcp.external_id = 'H"1\r\nX'
    db.session.commit()
    as_role("sales_rep")
    response = client.get("/plays/ACC-PA-002/leave-behind.pdf", query_string={"hcp": 'H"1\r\nX'})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'inline; filename="ACC-PA-002-H-1--X.pdf"'
