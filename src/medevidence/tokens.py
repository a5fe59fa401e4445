"""Lexical analysis for BM25: the same function turns passages and queries into terms.

Medical text breaks generic tokenisers: "HER2-positive", "ER+", "T-DM1", "5-FU", "19.2%", "IL-6".
Here a compound with a hyphen or slash yields its parts *and* the joined form ("t-dm1" →
"t", "dm1", "tdm1"), so "T-DM1", "TDM1" and "T DM1" meet; a trailing "+" or "-" on a receptor
("ER+", "HER2-") is kept as "er+"; numbers are kept. British spellings map to American
("tumour" → "tumor") before Snowball stemming. Changing anything here changes the index:
bump ``ANALYZER_VERSION`` so libraries rebuild their lexical index.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

ANALYZER_VERSION = 1

# Words too common in clinical abstracts to help ranking (a standard English list, minus
# words that carry clinical meaning such as "no", "not", "against", "before", "after").
STOPWORDS = frozenset(
    """
    a about above an and any are as at be been being below between both but by can could did do does doing
    down during each few for from further had has have having he her here hers herself him himself his how i
    if in into is it its itself just me more most my myself nor of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves
    """.split()
)

_BRITISH = {
    "tumour": "tumor",
    "tumours": "tumors",
    "oestrogen": "estrogen",
    "oesophageal": "esophageal",
    "oesophagus": "esophagus",
    "haemorrhage": "hemorrhage",
    "haemoglobin": "hemoglobin",
    "haematological": "hematological",
    "anaemia": "anemia",
    "anaesthesia": "anesthesia",
    "paediatric": "pediatric",
    "leukaemia": "leukemia",
    "oedema": "edema",
    "foetal": "fetal",
    "diarrhoea": "diarrhea",
    "behaviour": "behavior",
    "colour": "color",
    "centre": "center",
    "fibre": "fiber",
    "litre": "liter",
    "haem": "hem",
    "gynaecology": "gynecology",
    "orthopaedic": "orthopedic",
    "ischaemic": "ischemic",
    "ischaemia": "ischemia",
}
# -ise/-isation spellings ("randomised", "hospitalisation") map to -ize before stemming.
_ISE = re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$")

_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015", "-"))


def fold_hyphens(text: str) -> str:
    """``text`` with every Unicode hyphen and dash as "-": PDF and web text write "meta\u2011analysis"."""
    return text.translate(_HYPHENS)


# A token: letters/digits joined by internal hyphens, slashes, dots or apostrophes, with an
# optional trailing receptor sign ("ER+", "HER2-", "PD-L1+").
_TOKEN = re.compile(r"[^\W_]+(?:[-/.'\u2010\u2011][^\W_]+)*[+\u2212]?", re.UNICODE)
_SPLIT = re.compile(r"[-/.'\u2010\u2011]")

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    word = _BRITISH.get(word, word)
    if word.isalpha():
        word = _ISE.sub(lambda m: "iz" + m.group(1), word)
        return str(_stemmer.stemWord(word))
    return word


def analyze(text: str) -> list[str]:
    """Terms of ``text`` in order, with compound parts after their compound."""
    terms: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group().replace("\u2212", "-")
        sign = ""
        if token[-1] in "+-":
            sign, token = token[-1], token[:-1]
        parts = [p for p in _SPLIT.split(token) if p]
        if len(parts) > 1:
            joined = "".join(parts)
            if _is_number_like(parts):
                # "19.2" and "1/3" stay whole; their halves would only add noise.
                terms.append(token)
                continue
            terms.append(joined + sign if sign else joined)
            terms.extend(_stem(p) for p in parts if p not in STOPWORDS)
            continue
        if sign:
            # "ER+" indexes as "er+" and as "er", so a query for "ER positive" still matches.
            terms.append(token + "+" if sign == "+" else token + "-")
        if token not in STOPWORDS:
            terms.append(_stem(token))
    return terms


def _is_number_like(parts: list[str]) -> bool:
    return all(p.isdigit() for p in parts)
