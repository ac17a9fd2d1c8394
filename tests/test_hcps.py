"""Importing HCPs from CSV: all rows or none, re-import updates by external_id."""

from webapp.extensions import db
from webapp.models import HCP, Territory

HEADER = "external_id,name,specialty,account,territory,segment\n"


def _csv(tmp_path, body, header=HEADER):
    path = tmp_path / "hcps.csv"
    path.write_text(header + body, encoding="utf-8")
    return str(path)


def test_import_creates_hcps_and_territories(app, runner, tmp_path):
    path = _csv(tmp_path, "X1,Dr A,Oncology,Clinic A,NEW-1,seg\nX2,Dr B,Cardiology,Clinic B,NEW-2,\n")
    result = runner.invoke(args=["hcps", "import", path])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated" in result.output and "NEW-1, NEW-2" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Territory)) == 2


def test_reimport_updates_by_external_id(app, runner, tmp_path):
    runner.invoke(args=["hcps", "import", _csv(tmp_path, "X1,Dr A,Oncology,Clinic A,T-1,\n")])
    result = runner.invoke(
        args=["hcps", "import", _csv(tmp_path, "X1,Dr A,Oncology,Moved Clinic,T-1,\n")]
    )
    assert "0 created, 1 updated" in result.output
    assert db.session.scalar(db.select(HCP.account)) == "Moved Clinic"
    assert db.session.scalar(db.select(db.func.count()).select_from(HCP)) == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(app, runner, tmp_path):
    body = (
        "X1,Dr A,Oncology,Clinic A,T-1,\n"
        ",Dr B,Oncology,Clinic B,T-1,\n"
        "X3,Dr C,Oncology,Clinic C,T-1\n"
        "X1,Dr D,Oncology,Clinic D,T-1,\n"
    )
    result = runner.invoke(args=["hcps", "import", _csv(tmp_path, body)])
    assert result.exit_code != 0
    assert "line 3: missing external_id" in result.output
    assert "line 4: expected 6 columns" in result.output
    assert "line 5: external_id X1 repeats line 2" in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(HCP)) == 0


def test_wrong_header_is_refused(app, runner, tmp_path):
    result = runner.invoke(
        args=["hcps", "import", _csv(tmp_path, "X1,Dr A\n", header="id,name\n")]
    )
    assert result.exit_code != 0 and "line 1: header must be" in result.output
