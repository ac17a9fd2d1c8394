"""The compliance guard on free-text notes: no patient identifiers, and adverse events flagged.

Patient identifiers are refused outright (nothing is stored, the message says what to remove).
A possible adverse event is not blocked: it is saved with a safety flag, and drug safety sees it
in its queue, because the company must report it within 24 hours whatever the rep's wording.
"""

import re
from dataclasses import dataclass, field

# Capitalised words that follow "patient" in programme names, not in people's names.
_NOT_NAMES = (
    "access", "assistance", "support", "services", "service", "portal", "hub", "program",
    "programme", "education", "journey", "materials", "brochure", "guide", "advocate",
    "advocacy", "navigator", "liaison", "information", "app", "resources", "savings",
)

# The rules as data, in the regex dialect Python and JavaScript share, so the device can refuse
# a note before it ever reaches the outbox (static/js/compliance.js compiles the same list).
# Each: what it finds, the pattern, and whether case is ignored.
IDENTIFIER_RULES = (
    ("the patient's name",
     r"\b(?:[Mm][Rr][Ss]?|[Mm][Ss]|[Mm][Ii][Ss][Ss]|[Mm][Xx]|[Pp][Tt]|[Pp][Aa][Tt][Ii][Ee][Nn][Tt])\b"
     r"\.?\s+([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)", False),
    ("a date of birth",
     r"\b(?:dob|d\.o\.b\.?|date of birth|born(?: on)?)\b[\s:#-]*"
     r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Za-z]+ \d{1,2},? \d{4})", True),
    ("a medical record number",
     r"\b(?:mrn|medical record (?:number|no\.?|#))\b[\s:#-]*[A-Za-z0-9-]{3,}", True),
    ("a social security number", r"\b\d{3}-\d{2}-\d{4}\b", False),
    ("an e-mail address", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", False),
    ("a phone number", r"(?<![\d-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d-])", False),
)
ADVERSE_EVENT_RULE = (
    r"\b(?:side[- ]effects?|adverse (?:event|reaction)s?|reactions?|rash(?:es)?|hives|anaphyla\w*|"
    r"hospitali[sz](?:ed|ation|ations)|admitted|ended up in the (?:er|ed|icu|hospital)|er visit|icu|"
    r"died|death|passed away|fatal\w*|pregnan\w*|overdos\w*|"
    r"(?:product|device|pen) (?:complaint|malfunction\w*|defect\w*|broke\w*|fail\w*)|"
    r"defective|malfunction\w*|broken (?:pen|device|syringe|vial)|"
    r"seizures?|liver (?:injury|failure|damage))\b"
)
_IDENTIFIERS = [
    (label, re.compile(pattern, re.IGNORECASE if ignore_case else 0))
    for label, pattern, ignore_case in IDENTIFIER_RULES
]
_ADVERSE_EVENT = re.compile(ADVERSE_EVENT_RULE, re.IGNORECASE)

REPORTING_INSTRUCTIONS = (
    "This note may describe an adverse event or product complaint. It was saved and flagged for "
    "Drug Safety. You must also report it within 24 hours: call the Drug Safety line on your "
    "badge or use the AE form, with what you know (patient initials only, product, event, date)."
)


@dataclass
class NoteCheck:
    identifiers: list[str] = field(default_factory=list)
    adverse_event_terms: list[str] = field(default_factory=list)

    @property
    def safety_flag(self) -> bool:
        return bool(self.adverse_event_terms)

    def refusal(self) -> str:
        return "Remove patient details before saving: " + "; ".join(self.identifiers) + "."


def check_note(note: str) -> NoteCheck:
    """Find patient identifiers (to refuse) and adverse-event wording (to flag) in a note."""
    check = NoteCheck()
    for label, pattern in _IDENTIFIERS:
        for match in pattern.finditer(note):
            found = (match.group(1) if pattern.groups else match.group(0)).strip()
            if label == "the patient's name" and found.split()[0].lower() in _NOT_NAMES:
                continue
            check.identifiers.append(f"{label} “{found}”")
    for match in _ADVERSE_EVENT.finditer(note):
        term = match.group(0).lower()
        if term not in check.adverse_event_terms:
            check.adverse_event_terms.append(term)
    return check


def rules() -> dict:
    """The rules for the device: the same patterns, and the same refusal wording."""
    return {
        "identifiers": [
            {"label": label, "pattern": pattern, "ignore_case": ignore_case}
            for label, pattern, ignore_case in IDENTIFIER_RULES
        ],
        "not_names": list(_NOT_NAMES),
        "adverse_event": ADVERSE_EVENT_RULE,
        "refusal_prefix": "Remove patient details before saving: ",
    }
