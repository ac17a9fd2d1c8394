"""The device refuses and flags notes exactly as the server does (compliance.js under Node)."""

import yaml

from webapp.capture.compliance import check_note, rules
from webapp.library.services import SafeLoader

from .node import ROOT, needs_node, run_module

NODE_SCRIPT = """
const fs = require("fs");
const { makeChecker } = require(process.argv[2]);
const check = makeChecker(JSON.parse(fs.readFileSync(process.argv[3], "utf8")));
const notes = JSON.parse(fs.readFileSync(process.argv[4], "utf8"));
process.stdout.write(JSON.stringify(notes.map((note) => {
  const result = check(note);
  return [result.identifiers, result.adverseEventTerms];
})));
"""
NOTES = [
    "pt Smith missed 2 doses", "Mrs. Jane Doe cant afford the copay", "PATIENT Okafor called",
    "DOB 03/14/1962, PA denied", "born on March 4, 1958", "MRN 0048812 on the letter",
    "call her back on 617-555-0199 or (617) 555 0100", "email jane.doe@example.com",
    "SSN 123-45-6789", "Dr Patel says PA keeps bouncing", "office wants Patient Assistance forms",
    "pt got a bad rash and was hospitalized", "pen malfunctioned twice", "pt became pregnant",
]


@needs_node
def test_javascript_and_python_agree_on_every_note(tmp_path):
    with open(ROOT / "bench" / "data" / "dev_notes.yaml", encoding="utf-8") as handle:
        notes = NOTES + [n["text"] for n in yaml.load(handle, Loader=SafeLoader)["notes"]]
    from_js = run_module(tmp_path, "compliance.js", NODE_SCRIPT, rules(), notes)
    from_python = [[c.identifiers, c.adverse_event_terms] for c in map(check_note, notes)]
    mismatches = [(n, p, j) for n, p, j in zip(notes, from_python, from_js, strict=True) if p != j]
    assert mismatches == []
    assert sum(bool(p[0]) for p in from_python) >= 9  # the identifier notes above are caught
