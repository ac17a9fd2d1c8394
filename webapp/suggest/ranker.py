"""A lexical barrier ranker: BM25F over the library's words, tuned for field shorthand.

Notes typed after a call are short and full of shorthand ("PA keeps bouncing, pt cant afford
copay"), so the query side expands abbreviations and field synonyms, stems words, and maps a
misspelt word to the nearest word the library knows. The document side weights a barrier's
fields: its name and the phrases reps actually hear ("signals") count most.

The same index is exported as JSON and scored by static/js/suggest.js on the device, so the
tokenizer here is deliberately simple and mirrored there rule for rule.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

# Chosen by a grid search on the tuning notes only (bench/suggest_accuracy.py).
FIELD_WEIGHTS = {
    "name": 2.0,
    "signals": 1.5,
    "description": 1.5,
    "play": 1.0,
    "category": 0.6,
    "stage": 0.6,
    # Notes from confirmed captures: how the field actually describes this barrier.
    "examples": 1.5,
}
K1 = 1.6
B = 0.75
TYPO_MIN_LENGTH = 5

STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by
    can could did do does doing done dont for from get gets got had has have he her here him his
    how i if in into is it its just me more most my no not now of off on once one only or other
    our out over own same she should so some such than that the their them then there these they
    this those through to too under until up very was we were what when where which while who
    why will with would you your says said told tell asked ask wants want still even really
    today yesterday week wk weeks month months yr year""".split()
)

# Field shorthand and synonyms, expanded on the query side. General domain knowledge, not
# tuned to any one note: each key is something reps type, each value what the library says.
EXPANSIONS = {
    "pa": "prior authorization",
    "pas": "prior authorization",
    "auth": "authorization",
    "bv": "benefit verification",
    "pap": "patient assistance program",
    "oop": "out of pocket cost",
    "emr": "emr electronic record order set",
    "ehr": "emr electronic record",
    "nccn": "guidelines",
    "kol": "thought leader",
    "kols": "thought leader",
    "moa": "mechanism of action",
    "pt": "patient",
    "pts": "patient",
    "dr": "hcp",
    "drs": "hcp",
    "doc": "hcp",
    "docs": "hcp",
    "md": "hcp",
    "np": "nurse practitioner",
    "ma": "medical assistant",
    "rn": "nurse",
    "sp": "specialty pharmacy",
    "pharm": "pharmacy",
    "rx": "prescription",
    "dx": "diagnosis",
    "dxd": "diagnosis",
    "tx": "treatment",
    "fu": "follow up",
    "pcp": "primary care",
    "pcps": "primary care",
    "ae": "side effect safety",
    "aes": "side effect safety",
    "copay": "copay cost",
    "copays": "copay cost",
    "ql": "quantity limit",
    "qty": "quantity",
    "pbm": "pbm payer",
    "formulary": "formulary coverage",
    "denied": "denial",
    "denials": "denial",
    "bounced": "rejected denial",
    "bouncing": "rejected denial",
    "appeal": "appeal denial",
    "medicare": "medicare",
    "uninsured": "uninsured assistance",
    "afford": "cost affordability",
    "expensive": "cost",
    "mir": "medical information request",
    "msl": "msl scientific",
    "frm": "reimbursement",
    "hub": "hub support program",
    "spec": "specialty",
    "univ": "university academic",
    "mtg": "meeting",
    "btwn": "between",
    "w": "with",
    "inj": "injection",
    "shot": "injection",
    "shots": "injection",
    "infusion": "infusion",
    "oral": "oral pill",
    "biosim": "biosimilar",
    "generic": "generic",
    "comp": "competitor",
    "competitor": "competitor",
    "switch": "switch",
    "switched": "switch",
    "trial": "trial study",
    "data": "data evidence",
    "label": "label",
    "offlabel": "off label",
    "dosing": "dose",
    "titration": "titration dose",
    "fax": "fax paperwork",
    "portal": "portal",
    "email": "email",
    "webinar": "webinar program",
    "rep": "representative",
    "reps": "representative",
    "reauth": "renewal reauthorization expire",
    "renewal": "renewal reauthorization",
    "er": "emergency hospital",
    "ed": "emergency hospital",
    "bbw": "boxed warning safety",
    "black": "boxed",
    "box": "boxed warning",
    "isi": "safety information",
    "nnt": "number needed treat",
    "abs": "absolute",
    "ph3": "phase pipeline",
    "ph2": "phase pipeline",
    "pipeline": "pipeline",
    "pill": "oral",
    "sps": "specialty pharmacy",
    "googled": "online search source",
    "google": "online search source",
    "chatbot": "online ai source",
    "im": "internal medicine",
    "gi": "gastroenterology",
    "derm": "dermatology",
    "onc": "oncology",
    "cards": "cardiology",
    "rheum": "rheumatology",
    "biologic": "biologic",
    "jak": "jak",
    "mgr": "manager",
    "staff": "staff office",
    "paperwork": "paperwork forms",
    "forms": "forms paperwork",
    "coinsurance": "coinsurance cost",
    "deductible": "deductible cost",
    "foundation": "foundation assistance",
    "refill": "refill persistence",
    "refills": "refill persistence",
    "adherence": "adherence persistence",
    "quit": "stop discontinue",
    "stopped": "stop discontinue",
    "missed": "miss dose",
    "sample": "sample",
    "samples": "sample",
    "lunch": "lunch access",
    "nurse": "nurse",
    "asap": "urgent",
}

_TOKEN = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ization", "ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """Strip one common English suffix; keep at least four letters of stem."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                word += "y"
            return word
    return word


def words(text: str) -> list[str]:
    """Lowercase words with slashes and apostrophes folded in (f/u → fu, can't → cant)."""
    text = text.lower().replace("/", "").replace("'", "").replace("\u2019", "")
    return _TOKEN.findall(text)


def analyse(text: str) -> list[str]:
    """Document side: words minus stopwords, stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def analyse_query(text: str) -> list[str]:
    """Query side: words, shorthand expanded, minus stopwords, stemmed."""
    out = []
    for word in words(text):
        expansion = EXPANSIONS.get(word)
        if expansion:
            out.extend(stem(w) for w in expansion.split())
        elif word not in STOPWORDS:
            out.append(stem(word))
    return out


def within_one_edit(a: str, b: str) -> bool:
    """True if a and b differ by one insertion, deletion, substitution or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1
        return swapped and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


@dataclass
class Document:
    code: str
    name: str
    fields: dict[str, str]


@dataclass
class Index:
    """Weighted term frequencies per barrier, and the statistics BM25 needs."""

    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    tf: list[dict[str, float]] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    average_length: float = 1.0

    @classmethod
    def build(cls, documents: list[Document], examples: dict[str, list[str]] | None = None) -> Index:
        """Index the library; `examples` maps a code to notes confirmed for that barrier."""
        index = cls()
        examples = examples or {}
        document_frequency: Counter[str] = Counter()
        for document in documents:
            weighted: Counter[str] = Counter()
            fields = {**document.fields, "examples": " ".join(examples.get(document.code, []))}
            for name, text in fields.items():
                for term in analyse(text):
                    weighted[term] += FIELD_WEIGHTS[name]
            index.codes.append(document.code)
            index.names.append(document.name)
            index.tf.append(dict(weighted))
            index.lengths.append(sum(weighted.values()))
            document_frequency.update(weighted.keys())
        n = len(documents) or 1
        index.idf = {
            term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in document_frequency.items()
        }
        index.average_length = (sum(index.lengths) / n) or 1.0
        return index

    def correct(self, term: str) -> str | None:
        """The term itself if the library knows it, else a known term one edit away."""
        if term in self.idf:
            return term
        if len(term) < TYPO_MIN_LENGTH:
            return None
        candidates = [t for t in self.idf if abs(len(t) - len(term)) <= 1 and within_one_edit(term, t)]
        # Prefer the rarer (more telling) word when several are one edit away.
        return max(candidates, key=lambda t: (self.idf[t], t)) if candidates else None

    def rank(self, text: str, limit: int = 5) -> list[tuple[str, str, float]]:
        """The best barriers for a note: (code, name, score), best first, score > 0."""
        terms = Counter(t for t in (self.correct(term) for term in analyse_query(text)) if t)
        if not terms:
            return []
        scores = []
        for position, tf in enumerate(self.tf):
            norm = K1 * (1 - B + B * self.lengths[position] / self.average_length)
            score = 0.0
            for term, count in terms.items():
                frequency = tf.get(term)
                if frequency:
                    score += count * self.idf[term] * frequency * (K1 + 1) / (frequency + norm)
            if score > 0:
                scores.append((score, position))
        scores.sort(key=lambda pair: (-pair[0], self.codes[pair[1]]))
        return [(self.codes[p], self.names[p], round(s, 3)) for s, p in scores[:limit]]

    def to_json(self) -> dict:
        return {
            "codes": self.codes,
            "names": self.names,
            "tf": self.tf,
            "lengths": self.lengths,
            "idf": self.idf,
            "average_length": self.average_length,
            "k1": K1,
            "b": B,
            "typo_min_length": TYPO_MIN_LENGTH,
            "stopwords": sorted(STOPWORDS),
            "expansions": EXPANSIONS,
            "suffixes": list(_SUFFIXES),
        }
