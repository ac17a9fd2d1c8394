"""Barrier suggestion accuracy on the labelled field notes, tuning and held-out parts side by side.

    python -m bench.suggest_accuracy [--notes bench/data/dev_notes.yaml] [--misses] [--no-api]

A hit is a labelled code among the first 1 (top-1) or 3 (top-3) suggestions. Every fifth note
(index % 5 == 0) is held out: it was never looked at while tuning the ranker. "+ confirmed
notes" lets the index learn from labelled notes as it learns from confirmed captures: a tuning
note is scored by an index that learned from the other three folds of the tuning notes (4-fold
cross-validation), a held-out note by one that learned from all the tuning notes.

The same index runs on the server and, through static/js/suggest.js, on the device (the parity
test holds them to identical top-3), so these figures are both. Latency is the ranking alone,
and the whole POST /api/v1/suggestions through Flask on an in-memory demo database.
"""

import argparse
import statistics
import time
from pathlib import Path

import yaml

from webapp.library.services import SHIPPED_LIBRARY, SafeLoader
from webapp.suggest.documents import documents_from_yaml
from webapp.suggest.ranker import Index

NOTES = Path(__file__).with_name("data") / "dev_notes.yaml"
FOLDS = 4


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SafeLoader)


def hard_notes(path) -> set[int]:
    """Indexes of notes preceded by a '# hard' comment (implied, not stated)."""
    hard, index, pending = set(), -1, False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("# hard"):
            pending = True
        elif stripped.startswith("- text:"):
            index += 1
            if pending:
                hard.add(index)
            pending = False
    return hard


def hits(index: Index, notes: dict[int, dict], show_misses: bool = False) -> dict[int, tuple]:
    """(top-1 hit, top-3 hit) per note number."""
    found = {}
    for number, note in notes.items():
        codes = [code for code, _, _ in index.rank(note["text"], limit=3)]
        labels = set(note["barriers"])
        found[number] = (bool(codes[:1] and codes[0] in labels), bool(labels & set(codes)))
        if show_misses and not found[number][1]:
            print(f"  miss {sorted(labels)} got {codes}: {note['text']}")
    return found


def examples_from(notes) -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for note in notes:
        for code in note["barriers"]:
            examples.setdefault(code, []).append(note["text"])
    return examples


def cross_validated(documents, notes: dict[int, dict]) -> dict[int, tuple]:
    """Each fold scored by an index that learned from the other folds only."""
    numbers = sorted(notes)
    found = {}
    for fold in range(FOLDS):
        train = [notes[n] for k, n in enumerate(numbers) if k % FOLDS != fold]
        test = {n: notes[n] for k, n in enumerate(numbers) if k % FOLDS == fold}
        found.update(hits(Index.build(documents, examples_from(train)), test))
    return found


def rate(found: dict[int, tuple], numbers) -> tuple[int, float, float]:
    numbers = [n for n in numbers if n in found]
    count = len(numbers) or 1
    return (len(numbers), sum(found[n][0] for n in numbers) / count,
            sum(found[n][1] for n in numbers) / count)


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def ranking_latency(index: Index, notes, rounds: int = 5) -> tuple[float, float]:
    timings = []
    for _ in range(rounds):
        for note in notes:
            start = time.perf_counter()
            index.rank(note["text"])
            timings.append((time.perf_counter() - start) * 1000)
    return percentiles(timings)


def api_latency(notes, rounds: int = 2) -> tuple[float, float]:
    """POST /api/v1/suggestions for every note, as a signed-in rep, on the demo database."""
    from webapp import create_app
    from webapp.auth.services import issue_token
    from webapp.config import TestConfig
    from webapp.demo.services import load_demo
    from webapp.extensions import db
    from webapp.models import User

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()
        load_demo()
        rep = db.session.scalar(db.select(User).where(User.role == "sales_rep").limit(1))
        headers = {"Authorization": f"Bearer {issue_token(rep)}"}
        client = app.test_client()
        client.post("/api/v1/suggestions", json={"text": "warm up"}, headers=headers)
        timings = []
        for _ in range(rounds):
            for note in notes:
                start = time.perf_counter()
                response = client.post("/api/v1/suggestions", json={"text": note["text"]},
                                       headers=headers)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
    return percentiles(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", default=str(NOTES))
    parser.add_argument("--misses", action="store_true", help="print tuning-set misses")
    parser.add_argument("--no-api", action="store_true", help="skip the API latency run")
    args = parser.parse_args()
    documents = documents_from_yaml(load(SHIPPED_LIBRARY))
    notes = load(args.notes)["notes"]
    hard = hard_notes(args.notes)
    tuning = {i: n for i, n in enumerate(notes) if i % 5}
    held_out = {i: n for i, n in enumerate(notes) if not i % 5}

    library_only = Index.build(documents)
    plain = {**hits(library_only, tuning, args.misses), **hits(library_only, held_out)}
    learned = Index.build(documents, examples_from(tuning.values()))
    with_notes = {**cross_validated(documents, tuning), **hits(learned, held_out)}
    rows = [
        ("library only", plain, range(len(notes))),
        ("library only: hard (implied)", plain, hard),
        (f"+ confirmed notes (tuning: {FOLDS}-fold CV)", with_notes, range(len(notes))),
        ("+ confirmed notes: hard (implied)", with_notes, hard),
    ]
    print("| index | tuning notes | top-1 | top-3 | held-out notes | top-1 | top-3 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, found, numbers in rows:
        t_n, t1, t3 = rate(found, [n for n in numbers if n in tuning])
        h_n, h1, h3 = rate(found, [n for n in numbers if n in held_out])
        print(f"| {name} | {t_n} | {t1:.3f} | {t3:.3f} | {h_n} | {h1:.3f} | {h3:.3f} |")

    p50, p95 = ranking_latency(learned, notes)
    print(f"\nranking latency over {len(notes)} notes: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    if not args.no_api:
        p50, p95 = api_latency(notes)
        print(f"POST /api/v1/suggestions, {2 * len(notes)} requests: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
