"""The device ranks barriers exactly as the server does (static/js/suggest.js under Node)."""

import yaml

from webapp.library.services import SHIPPED_LIBRARY, SafeLoader
from webapp.suggest.documents import documents_from_yaml
from webapp.suggest.ranker import Index

from .node import ROOT, needs_node, run_module

NODE_SCRIPT = """
const fs = require("fs");
const { makeRanker } = require(process.argv[2]);
const index = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const notes = JSON.parse(fs.readFileSync(process.argv[4], "utf8"));
const rank = makeRanker(index);
process.stdout.write(JSON.stringify(notes.map((text) => rank(text, 3).map((s) => s.code))));
"""


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SafeLoader)


@needs_node
def test_javascript_and_python_rank_every_labelled_note_the_same(tmp_path):
    notes = _load(ROOT / "bench" / "data" / "dev_notes.yaml")["notes"]
    library = _load(SHIPPED_LIBRARY)
    texts = [n["text"] for n in notes]
    # The library's own words as notes too, and the analyser's edge cases.
    texts += [f"{b['name']} {' '.join(b.get('signals') or [])}" for b in library["barriers"]]
    texts += ["PA keeps bouncing", "definately no copay card", "", "!!!", "pt's f/u w/ EMR",
              "BVs and LMNs piling up", "pt lost to follow up", "lost to", "emial the pharamcy",
              "great cancer infection", "P&T said no", "sec", "zebra form"]
    # An index that learned from confirmed notes, as in the field.
    examples = {"OPS-STF-001": ["zebra form piling up"]}
    for note in notes[1::2]:
        for code in note["barriers"]:
            examples.setdefault(code, []).append(note["text"])
    index = Index.build(documents_from_yaml(library), examples)
    from_js = run_module(tmp_path, "suggest.js", NODE_SCRIPT, index.to_json(), texts)
    from_python = [[code for code, _, _ in index.rank(text, limit=3)] for text in texts]
    mismatches = [(t, p, j) for t, p, j in zip(texts, from_python, from_js, strict=True) if p != j]
    assert mismatches == []
    assert sum(bool(codes) for codes in from_js[: len(notes)]) >= 290
