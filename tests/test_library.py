"""Loading the barrier library: idempotent, updates in place, retires what was dropped."""

import yaml

from webapp.extensions import db
from webapp.library.services import SHIPPED_LIBRARY, read_library
from webapp.models import Barrier, LeaveBehind, Play


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _write(tmp_path, data):
    path = tmp_path / "library.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_loading_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["library", "load"])
    assert first.exit_code == 0, first.output
    assert "175 created" in first.output
    counts = (_count(Barrier), _count(Play), _count(LeaveBehind))
    second = runner.invoke(args=["library", "load"])
    assert "0 created, 0 updated, 175 unchanged, 0 retired" in second.output
    assert (_count(Barrier), _count(Play), _count(LeaveBehind)) == counts == (175, 175, 108)


def test_same_code_updates_and_dropped_barrier_is_retired(app, runner, tmp_path):
    runner.invoke(args=["library", "load"])
    data = read_library(SHIPPED_LIBRARY)
    dropped = data["barriers"].pop()["code"]
    data["barriers"][0]["name"] = "A clearer name"
    data["barriers"][0]["play"]["leave_behind"] = None
    result = runner.invoke(args=["library", "load", str(_write(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 173 unchanged, 1 retired" in result.output
    first = db.session.scalar(db.select(Barrier).where(Barrier.code == data["barriers"][0]["code"]))
    assert first.name == "A clearer name" and first.play.leave_behind is None
    retired = db.session.scalar(db.select(Barrier).where(Barrier.code == dropped))
    assert retired.retired_at is not None  # kept for the observations that point at it
    assert _count(Barrier) == 175


def test_bad_library_is_refused_and_changes_nothing(app, runner, tmp_path):
    runner.invoke(args=["library", "load"])
    data = read_library(SHIPPED_LIBRARY)
    data["barriers"][0]["category"] = "no-such-category"
    data["barriers"][1]["name"] = "Should not be saved"
    result = runner.invoke(args=["library", "load", str(_write(tmp_path, data))])
    assert result.exit_code != 0
    assert "unknown code" in result.output
    assert db.session.scalar(
        db.select(db.func.count()).where(Barrier.name == "Should not be saved")
    ) == 0


def test_missing_file_is_a_clear_error(app, runner, tmp_path):
    result = runner.invoke(args=["library", "load", str(tmp_path / "none.yaml")])
    assert result.exit_code != 0 and "Cannot read the library" in result.output
