"""The play answers the five questions and says plainly when the role must hand it on."""


def test_play_answers_the_five_questions(client, as_role):
    as_role("sales_rep")
    page = client.get("/plays/ACC-PA-002").text
    for question in ("Customer goal", "Who and how", "What to know", "What to use", "Who to tell"):
        assert question in page
    assert "hand this to your" not in page  # sales reps may run this play


def test_sales_rep_is_told_to_hand_a_reimbursement_play_to_the_frm(client, as_role):
    as_role("sales_rep")
    page = client.get("/plays/ACC-APL-001").text
    assert "hand this to your Field reimbursement manager" in page


def test_frm_may_run_the_reimbursement_play(client, as_role):
    as_role("frm")
    assert "hand this to your" not in client.get("/plays/ACC-APL-001").text


def test_play_without_leave_behind_says_so(client, as_role):
    as_role("msl")
    page = client.get("/plays/CLN-BIO-001").text
    assert "No approved leave-behind for this play" in page


def test_unknown_play_is_a_clear_404(client, as_role):
    as_role("sales_rep")
    response = client.get("/plays/NOPE-001")
    assert response.status_code == 404
    assert "No barrier with this code." in response.text


def test_observation_page_links_each_leave_behind_for_the_hcp(client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-PA-002", "CLN-BIO-001"])
    as_role("sales_rep")
    page = client.get(f"/observations/{observation.id}").text
    assert "/plays/ACC-PA-002/leave-behind.pdf?hcp=H1" in page
    assert "/plays/CLN-BIO-001/leave-behind.pdf" not in page
    assert "hand this to your Medical science liaison" in page
