"""Match a patient case to what the sources say about people like them.

Each case attribute (CONTRACT.md fields) becomes phrases the literature uses for it ("er":
"positive" → "estrogen receptor-positive", "ER+", "hormone receptor-positive", ...). The best
source sentence naming the attribute, among those relevant to the question, becomes a statement
of the "This patient" section, labelled with whether it favours or cautions. Attributes no
source speaks to are returned as gaps, so the answer says what the library does not cover.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .candidates import Candidate
from .stance import Stance

LABELS = {
    "age": "Age",
    "sex": "Sex",
    "menopausal_status": "Menopausal status",
    "histology": "Histology",
    "stage": "Stage",
    "tumor_size_cm": "Tumour size",
    "er": "Estrogen receptor",
    "pr": "Progesterone receptor",
    "her2": "HER2",
    "metastatic_sites": "Metastatic sites",
    "number_of_metastases": "Number of metastases",
    "performance_status": "Performance status (ECOG)",
    "comorbidities": "Comorbidities",
    "systemic_therapy": "Systemic therapy",
    "response": "Response to treatment",
    "symptoms": "Symptoms",
}
# Free-text fields are shown with the answer but not matched: they are not claims to look up.
NOT_MATCHED = frozenset({"preferences", "notes"})

_RECEPTORS = {
    "er": ("estrogen receptor", "oestrogen receptor", "ER", "hormone receptor", "HR"),
    "pr": ("progesterone receptor", "PR", "hormone receptor", "HR"),
    "her2": ("HER2", "HER-2", "ERBB2", "HER2/neu"),
}
_VISCERAL = frozenset({"liver", "lung", "lungs", "brain", "adrenal", "peritoneum", "pleura"})


@dataclass(frozen=True)
class CaseMatch:
    field: str
    label: str
    candidate: Candidate
    direction: str  # favours / cautions / bears on


def phrases(field: str, value: Any) -> list[str]:
    """How sources write about this attribute's value (regular-expression fragments)."""
    if isinstance(value, list):
        return [p for item in value for p in phrases(field, item)]
    text = str(value).strip()
    lowered = text.lower()
    if field in _RECEPTORS:
        names = _RECEPTORS[field]
        if lowered in ("positive", "pos", "+", "yes"):
            return [rf"{re.escape(n)}[- ]?(positive|\+)" for n in names] + [rf"{re.escape(n)}\+" for n in names]
        if lowered in ("negative", "neg", "-", "no"):
            return [rf"{re.escape(n)}[- ]?(negative|-(?=\W))" for n in names] + ["triple[- ]negative"]
        if lowered == "low":
            return [rf"{re.escape(n)}[- ]low" for n in names]
    if field == "metastatic_sites":
        site = re.escape(lowered.rstrip("s"))
        found = [rf"{site}s?[- ]only", rf"{site}s? metasta\w*", rf"metasta\w* (to|in) (the )?{site}"]
        return found + (["visceral"] if lowered in _VISCERAL else [])
    if field == "number_of_metastases":
        count = _number(text)
        general = [r"number of metasta\w*", r"metastatic (sites|lesions)"]
        if count is not None and count <= 3:
            return [r"oligometasta\w*", r"(single|solitary|limited) (metasta\w*|sites?|lesions?)", *general]
        return [r"multiple (metasta\w*|sites|lesions)", r"multi-?organ", r"widespread", *general]
    if field == "performance_status":
        score = _number(text)
        general = [r"performance status", r"\bECOG\b", r"\bKarnofsky\b"]
        return (
            [r"good performance status"] if score is not None and score <= 1 else [r"poor performance status"]
        ) + general
    if field == "age":
        years = _number(text)
        if years is not None and years < 50:
            return [r"\byoung(er)?\b", r"\bpremenopausal\b", r"\bage\b"]
        if years is not None and years >= 70:
            return [r"\bolder\b", r"\belderly\b", r"\bage\b"]
        return [r"\bage\b"]
    if field == "response":
        return [re.escape(lowered), r"respon\w* to (systemic|chemo|first|initial|neoadjuvant)\w*", r"\bresponders?\b"]
    if field == "tumor_size_cm":
        return [r"tumou?r size", r"\bT[1-4]\b"]
    return [re.escape(lowered)] if lowered else []


def _number(text: str) -> float | None:
    match = re.search(r"\d+(\.\d+)?", text)
    return float(match.group()) if match else None


def display(field: str, value: Any) -> str:
    shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return f"{LABELS.get(field, field.replace('_', ' ').capitalize())}: {shown}"


def match_case(
    values: dict[str, Any], candidates: Sequence[Candidate], min_relevance: float
) -> tuple[list[CaseMatch], list[str]]:
    """The best sentence for each attribute, and the attributes nothing in the library speaks to."""
    matches: list[CaseMatch] = []
    gaps: list[str] = []
    used: set[tuple[int, int]] = set()
    for field, value in values.items():
        if field in NOT_MATCHED:
            continue
        patterns = [re.compile(p, re.IGNORECASE) for p in phrases(field, value)]
        found = [
            c
            for c in candidates
            if c.relevance >= min_relevance
            and (c.document.id, c.start) not in used
            and any(p.search(c.text) for p in patterns)
        ]
        if not found:
            gaps.append(f"{display(field, value)}: no source in this library speaks to this for the question asked.")
            continue
        best = min(found, key=lambda c: (c.stance is None, c.level_rank, -c.relevance, c.document.id))
        used.add((best.document.id, best.start))
        matches.append(CaseMatch(field, display(field, value), best, _direction(best.stance)))
    return matches, gaps


def _direction(stance: Stance | None) -> str:
    if stance is Stance.BENEFIT:
        return "favours"
    if stance in (Stance.NO_BENEFIT, Stance.HARM):
        return "cautions"
    return "bears on this"


def case_query(values: dict[str, Any]) -> str:
    """Words that steer retrieval towards sources about patients like this one."""
    words = []
    for field in ("histology", "stage", "er", "pr", "her2", "metastatic_sites", "response"):
        value = values.get(field)
        if value in (None, "", []):
            continue
        shown = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        words.append(f"{field.upper() if field in _RECEPTORS else ''} {shown}".strip())
    return " ".join(words)
