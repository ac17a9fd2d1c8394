"""HCPs: import from CSV (all rows or none, updating by external_id), and an HCP's history."""

import csv
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import selectinload

from ..audit import record
from ..extensions import db
from ..models import HCP, Observation, PlayRun, Territory, User
from ..scope import visible_observations

COLUMNS = ("external_id", "name", "specialty", "account", "territory", "segment")
REQUIRED = ("external_id", "name", "specialty", "account", "territory")
LIMITS = {"external_id": 64, "name": 160, "specialty": 120, "account": 200, "territory": 40,
          "segment": 80}


class HCPImportError(ValueError):
    """The file was refused; `problems` lists each bad line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    territories_created: list[str] = field(default_factory=list)


def _validate_rows(reader: csv.DictReader) -> tuple[list[dict], list[str]]:
    rows, problems, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            problems.append(f"line {line}: expected {len(COLUMNS)} columns")
            continue
        clean = {key: (row.get(key) or "").strip() for key in COLUMNS}
        missing = [key for key in REQUIRED if not clean[key]]
        if missing:
            problems.append(f"line {line}: missing {', '.join(missing)}")
            continue
        too_long = [key for key, limit in LIMITS.items() if len(clean[key]) > limit]
        if too_long:
            problems.append(f"line {line}: too long: {', '.join(too_long)}")
            continue
        if clean["external_id"] in seen:
            problems.append(
                f"line {line}: external_id {clean['external_id']} repeats line "
                f"{seen[clean['external_id']]}"
            )
            continue
        seen[clean["external_id"]] = line
        rows.append(clean)
    return rows, problems


def import_hcps(stream: IO[str]) -> ImportReport:
    """Create or update HCPs from a CSV stream; refuse the whole file if any row is bad."""
    reader = csv.DictReader(stream)
    header = [name.strip() for name in (reader.fieldnames or [])]
    if header != list(COLUMNS):
        raise HCPImportError([f"line 1: header must be {','.join(COLUMNS)}"])
    reader.fieldnames = header
    rows, problems = _validate_rows(reader)
    if problems:
        raise HCPImportError(problems)

    report = ImportReport()
    territories = {t.code: t for t in db.session.scalars(db.select(Territory))}
    existing = {
        h.external_id: h
        for h in db.session.scalars(
            db.select(HCP).where(HCP.external_id.in_([r["external_id"] for r in rows]))
        )
    }
    for row in rows:
        territory = territories.get(row["territory"])
        if territory is None:
            territory = Territory(code=row["territory"], name=row["territory"])
            db.session.add(territory)
            territories[territory.code] = territory
            report.territories_created.append(territory.code)
        hcp = existing.get(row["external_id"])
        if hcp is None:
            hcp = HCP(external_id=row["external_id"])
            db.session.add(hcp)
            report.created += 1
        else:
            report.updated += 1
        hcp.name, hcp.specialty, hcp.account = row["name"], row["specialty"], row["account"]
        hcp.segment, hcp.territory = row["segment"], territory
    record("hcps_imported", entity="hcp", created=report.created, updated=report.updated)
    db.session.commit()
    return report


# An HCP's history -----------------------------------------------------------------------------
@dataclass
class HistoryEntry:
    observation: Observation
    runs: list[PlayRun]


def hcp_history(user: User, hcp: HCP, limit: int = 100) -> list[HistoryEntry]:
    """The HCP's observations the user may see, newest first, each with the plays run for it."""
    from ..feed.services import with_details

    query = visible_observations(db.select(Observation), user).where(Observation.hcp_id == hcp.id)
    query = with_details(query.order_by(Observation.observed_at.desc()).limit(limit))
    observations = list(db.session.scalars(query))
    runs: dict[str, list[PlayRun]] = {o.id: [] for o in observations}
    if observations:
        found = db.session.scalars(
            db.select(PlayRun).where(PlayRun.observation_id.in_(runs))
            .options(selectinload(PlayRun.play), selectinload(PlayRun.runner))
            .order_by(PlayRun.ran_at))
        for run in found:
            runs[run.observation_id].append(run)
    return [HistoryEntry(o, runs[o.id]) for o in observations]
