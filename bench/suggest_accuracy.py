"""Barrier suggestion accuracy on the labelled field notes, tuning and held-out parts apart.

    python -m bench.suggest_accuracy [--notes bench/data/dev_notes.yaml] [--misses]

A hit is a labelled code among the first 1 (top-1) or 3 (top-3) suggestions. Every fifth note
(index % 5 == 0) is held out: it was never looked at while tuning the ranker.
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


def evaluate(index: Index, notes: list[dict], show_misses: bool = False) -> dict:
    top1 = top3 = 0
    for note in notes:
        codes = [code for code, _, _ in index.rank(note["text"], limit=3)]
        labels = set(note["barriers"])
        top1 += bool(codes[:1] and codes[0] in labels)
        top3 += bool(labels & set(codes))
        if show_misses and not labels & set(codes):
            print(f"  miss {sorted(labels)} got {codes}: {note['text']}")
    n = len(notes) or 1
    return {"n": len(notes), "top1": top1 / n, "top3": top3 / n}


def latency(index: Index, notes: list[dict], rounds: int = 5) -> tuple[float, float]:
    timings = []
    for _ in range(rounds):
        for note in notes:
            start = time.perf_counter()
            index.rank(note["text"])
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def examples_from(notes: list[dict]) -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for note in notes:
        for code in note["barriers"]:
            examples.setdefault(code, []).append(note["text"])
    return examples


def cross_validated(documents, notes: list[dict], folds: int = 4) -> dict:
    """Each fold scored by an index that learned from the other folds only."""
    hits1 = hits3 = 0
    for fold in range(folds):
        train = [n for i, n in enumerate(notes) if i % folds != fold]
        test = [n for i, n in enumerate(notes) if i % folds == fold]
        result = evaluate(Index.build(documents, examples_from(train)), test)
        hits1 += result["top1"] * result["n"]
        hits3 += result["top3"] * result["n"]
    return {"n": len(notes), "top1": hits1 / len(notes), "top3": hits3 / len(notes)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", default=str(NOTES))
    parser.add_argument("--misses", action="store_true", help="print tuning-set misses")
    args = parser.parse_args()
    documents = documents_from_yaml(load(SHIPPED_LIBRARY))
    notes = load(args.notes)["notes"]
    hard = hard_notes(args.notes)
    tuning = [n for i, n in enumerate(notes) if i % 5]
    held_out = [n for i, n in enumerate(notes) if not i % 5]
    library_only = Index.build(documents)
    learned = Index.build(documents, examples_from(tuning))
    index = learned
    rows = [
        ("library only: tuning", evaluate(library_only, tuning, args.misses)),
        ("library only: held-out", evaluate(library_only, held_out)),
        ("library only: hard (implied)", evaluate(library_only, [n for i, n in enumerate(notes) if i in hard])),
        ("+ confirmed notes: tuning (4-fold CV)", cross_validated(documents, tuning)),
        ("+ confirmed notes: held-out", evaluate(learned, held_out)),
        ("+ confirmed notes: held-out hard", evaluate(learned, [n for i, n in enumerate(notes) if i in hard and not i % 5])),
    ]
    print("| set | notes | top-1 | top-3 |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['n']} | {r['top1']:.3f} | {r['top3']:.3f} |")
    p50, p95 = latency(index, notes)
    print(f"\nranking latency over {len(notes)} notes: p50 {p50:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
