"""The compliance guard on free-text notes: no patient identifiers, and adverse events flagged.

Patient identifiers are refused outright (nothing is stored, the message says what to remove).
A possible adverse event is not blocked: it is saved with a safety flag, and drug safety sees it
in its queue, because the company must report it within 24 hours whatever the rep's wording.
"""

import re
from dataclasses import dataclass, field

# Capitalised words that follow "patient" in programme names, not in people's names.
_NOT_NAMES = {
    "access", "assistance", "support", "services", "service", "portal", "hub", "program",
    "programme", "education", "journey", "materials", "brochure", "guide", "advocate",
    "advocacy", "navigator", "liaison", "information", "app", "resources", "savings",
}
_NAME_AFTER_TITLE = re.compile(
    r"\b(?i:mr|mrs|ms|miss|mx|pt|patient)\b\.?\s+([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
)
_DOB = re.compile(
    r"\b(?:dob|d\.o\.b\.?|date of birth|born(?: on)?)\b[\s:#-]*"
    r"(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Za-z]+ \d{1,2},? \d{4})",
    re.IGNORECASE,
)
_MRN = re.compile(r"\b(?:mrn|medical record (?:number|no\.?|#))\b[\s:#-]*([A-Za-z0-9-]{3,})", re.IGNORECASE)
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

_ADVERSE_EVENT = re.compile(
    r"\b(side[- ]effects?|adverse (?:event|reaction)s?|reactions?|rash(?:es)?|hives|anaphyla\w*|"
    r"hospitali[sz]\w*|admitted|ended up in the (?:er|ed|icu|hospital)|er visit|icu|"
    r"died|death|passed away|fatal\w*|pregnan\w*|overdos\w*|"
    r"(?:product|device|pen) (?:complaint|malfunction\w*|defect\w*|broke\w*|fail\w*)|"
    r"defective|malfunction\w*|broken (?:pen|device|syringe|vial)|"
    r"seizures?|liver (?:injury|failure|damage)|infections?)\b",
    re.IGNORECASE,
)

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
    for match in _NAME_AFTER_TITLE.finditer(note):
        name = match.group(1)
        if name.split()[0].lower() not in _NOT_NAMES:
            check.identifiers.append(f"the patient's name “{name}”")
    for pattern, what in ((_DOB, "a date of birth"), (_MRN, "a medical record number"),
                          (_SSN, "a social security number"), (_EMAIL, "an e-mail address")):
        for match in pattern.finditer(note):
            check.identifiers.append(f"{what} “{match.group(0).strip()}”")
    for match in _PHONE.finditer(note):
        if not _SSN.fullmatch(match.group(0).strip()):
            check.identifiers.append(f"a phone number “{match.group(0).strip()}”")
    seen = []
    for match in _ADVERSE_EVENT.finditer(note):
        term = match.group(0).lower()
        if term not in seen:
            seen.append(term)
    check.adverse_event_terms = seen
    return check
