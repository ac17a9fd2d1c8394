"""A lexical barrier ranker: BM25F over the library's words, tuned for field shorthand.

Notes typed after a call are short and full of shorthand ("PA keeps bouncing, pt cant afford
copay"), so the notes and the library go through one analyser that expands field shorthand and
synonyms (shorthand.py) and stems words; a misspelt note word is mapped to the nearest word
the library knows. The document side weights a barrier's fields, each normalised by its own
length (BM25F): the phrases reps actually hear ("signals") and the description count most.

The same index is exported as JSON and scored by static/js/suggest.js on the device, so the
analyser here is deliberately simple and mirrored there rule for rule. Field weighting and
length normalisation happen when the index is built, so the device only sums term scores.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from .shorthand import EXPANSIONS, STOPWORDS

# (weight, length normalisation b) per field. Re-tuning these by a grid search on the tuning
# notes gained about one note in a hundred, and nested cross-validation showed even that did not
# carry over to unseen folds, so they stay as first chosen; only the weight of confirmed notes
# moved, because cross-validation clearly favoured it (bench/suggest_accuracy.py).
FIELDS = {
    "name": (2.0, 0.75),
    "signals": (1.5, 0.75),
    "description": (1.5, 0.75),
    "play": (1.0, 0.75),
    "category": (0.6, 0.75),
    "stage": (0.6, 0.75),
    # Notes from confirmed captures: how the field actually describes this barrier. Low, since
    # a few notes per barrier are noisy; a word only they contain still stands out by its idf.
    "examples": (0.25, 0.75),
}
K1 = 1.6
TYPO_MIN_LENGTH = 5

_TOKEN = re.compile(r"[a-z0-9]+")
# Longest first; one is stripped, then a final e, a doubled letter and a final y are evened
# out, so that deny, denied and denial, or cancel and cancelled, meet.
_SUFFIXES = ("izations", "ization", "ations", "ation", "ments", "ment", "ings", "ions", "ing", "ion",
             "ies", "ied", "als", "ers", "ed", "es", "ly", "al", "er", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stemmer: strip one common suffix, keeping at least four letters (three for s)."""
    if len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= (3 if suffix == "s" else 4):
            if suffix == "s" and word[-2] in "su":  # access, status
                return word
            word = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                word += "i"
            break
    if len(word) > 4 and word[-1] == "e":
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "sz":
        word = word[:-1]
    if len(word) > 3 and word[-1] == "y":
        word = word[:-1] + "i"
    return word


def words(text: str) -> list[str]:
    """Lowercase words with slashes and apostrophes folded in (f/u → fu, can't → cant)."""
    text = text.lower().replace("/", "").replace("'", "").replace("\u2019", "")
    return _TOKEN.findall(text)


def expansion_of(word: str) -> str | None:
    """What shorthand stands for; a plural of shorthand too (BVs, LMNs)."""
    return EXPANSIONS.get(word) or (EXPANSIONS.get(word[:-1]) if word.endswith("s") else None)


# The longest shorthand key, in words ("lost to follow up"), and the words keys start with.
LONGEST_KEY = max(len(key.split()) for key in EXPANSIONS)
_KEY_STARTS = frozenset(key.split()[0] for key in EXPANSIONS if " " in key)


def analyse(text: str) -> list[str]:
    """Words, shorthand expanded, minus stopwords, stemmed: the same for notes and library."""
    tokens = words(text)
    out = []
    i = 0
    while i < len(tokens):
        expansion, span = None, 1
        if tokens[i] in _KEY_STARTS:
            for n in range(min(LONGEST_KEY, len(tokens) - i), 1, -1):
                expansion = EXPANSIONS.get(" ".join(tokens[i : i + n]))
                if expansion:
                    span = n
                    break
        if not expansion:
            expansion = expansion_of(tokens[i])
        if expansion:
            out.extend(stem(w) for w in expansion.split() if w not in STOPWORDS)
        elif tokens[i] not in STOPWORDS:
            out.append(stem(tokens[i]))
        i += span
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
    """Per barrier, each term's length-normalised weighted frequency, and the term idf."""

    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    tf: list[dict[str, float]] = field(default_factory=list, repr=False)
    idf: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, documents: list[Document], examples: dict[str, list[str]] | None = None) -> Index:
        """Index the library; `examples` maps a code to notes confirmed for that barrier."""
        examples = examples or {}
        analysed = []
        for document in documents:
            texts = {**document.fields, "examples": " ".join(examples.get(document.code, []))}
            analysed.append({name: analyse(text) for name, text in texts.items() if name in FIELDS})
        average = {}
        for name in FIELDS:
            lengths = [len(fields.get(name, [])) for fields in analysed]
            present = [n for n in lengths if n]
            average[name] = (sum(present) / len(present)) if present else 1.0

        index = cls()
        document_frequency: Counter[str] = Counter()
        for document, fields in zip(documents, analysed, strict=True):
            weighted: Counter[str] = Counter()
            for name, terms in fields.items():
                weight, b = FIELDS[name]
                if not weight or not terms:
                    continue
                norm = 1 - b + b * len(terms) / average[name]
                for term in terms:
                    weighted[term] += weight / norm
            index.codes.append(document.code)
            index.names.append(document.name)
            index.tf.append({term: round(value, 4) for term, value in weighted.items()})
            document_frequency.update(weighted.keys())
        n = len(documents) or 1
        index.idf = {
            term: round(math.log(1 + (n - df + 0.5) / (df + 0.5)), 4)
            for term, df in document_frequency.items()
        }
        return index

    @cached_property
    def _by_initial(self) -> dict[str, list[str]]:
        """Known terms by first letter: where a typo's correction is looked for."""
        terms: dict[str, list[str]] = {}
        for term in self.idf:
            terms.setdefault(term[0], []).append(term)
        return terms

    def correct(self, term: str) -> str | None:
        """The term itself if the library knows it, else a known term one typo away.

        Typos rarely hit the first letter, and short words one edit apart are usually other
        words (great, creat), so only longer words are corrected, and a five-letter word only
        for two swapped letters (emial).
        """
        if term in self.idf:
            return term
        if len(term) < TYPO_MIN_LENGTH:
            return None
        candidates = [
            t for t in self._by_initial.get(term[0], ())
            if abs(len(t) - len(term)) <= 1 and within_one_edit(term, t)
            and (len(term) > TYPO_MIN_LENGTH or (len(t) == len(term) and sorted(t) == sorted(term)))
        ]
        # Prefer the rarer (more telling) word when several are one edit away.
        return max(candidates, key=lambda t: (self.idf[t], t)) if candidates else None

    def query_terms(self, text: str) -> Counter[str]:
        """The known terms of a note, typos corrected, with how often each occurs."""
        return Counter(t for t in (self.correct(term) for term in analyse(text)) if t)

    @cached_property
    def _postings(self) -> dict[str, list[tuple[int, float]]]:
        """For each term, the barriers that have it and its weighted frequency there."""
        postings: dict[str, list[tuple[int, float]]] = {}
        for position, tf in enumerate(self.tf):
            for term, frequency in tf.items():
                postings.setdefault(term, []).append((position, frequency))
        return postings

    def rank(self, text: str, limit: int = 5) -> list[tuple[str, str, float]]:
        """The best barriers for a note: (code, name, score), best first; only those it matches."""
        scores: dict[int, float] = {}
        for term, count in self.query_terms(text).items():
            idf = self.idf[term]
            for position, frequency in self._postings[term]:
                gain = count * idf * frequency * (K1 + 1) / (frequency + K1)
                scores[position] = scores.get(position, 0.0) + gain
        best = sorted(scores.items(), key=lambda item: (-item[1], self.codes[item[0]]))
        return [(self.codes[p], self.names[p], round(s, 3)) for p, s in best[:limit]]

    def to_json(self) -> dict:
        return {
            "codes": self.codes,
            "names": self.names,
            "tf": self.tf,
            "idf": self.idf,
            "k1": K1,
            "typo_min_length": TYPO_MIN_LENGTH,
            "stopwords": sorted(STOPWORDS),
            "expansions": EXPANSIONS,
            "suffixes": list(_SUFFIXES),
        }
