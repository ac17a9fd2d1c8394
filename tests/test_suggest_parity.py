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
    notes = [n["text"] for n in _load(ROOT / "bench" / "data" / "dev_notes.yaml")["notes"]]
    notes += ["PA keeps bouncing", "definately no copay card", "", "!!!", "pt's f/u w/ EMR"]
    examples = {"OPS-STF-001": ["zebra form piling up"]}
    index = Index.build(documents_from_yaml(_load(SHIPPED_LIBRARY)), examples)
    from_js = run_module(tmp_path, "suggest.js", NODE_SCRIPT, index.to_json(), notes)
    from_python = [[code for code, _, _ in index.rank(text, limit=3)] for text in notes]
    mismatches = [(t, p, j) for t, p, j in zip(notes, from_python, from_js, strict=True) if p != j]
    assert mismatches == []
    assert sum(bool(codes) for codes in from_js) >= 290
