"""How the browser search cuts text into terms: the same rules as its web worker.

* normalise: Unicode NFKC, lower case, traditional -> simplified one character
  at a time (the table comes from zhconv; the index ships the part of it that
  can matter for this knowledge base), then every member of a synonym group
  (``_synonyms.yaml``) is replaced by the group's first word, longest first;
* terms: every CJK character and every pair of neighbouring CJK characters
  (unigrams and bigrams), plus ASCII words.

The index (:mod:`tooling.site.search_index`) and its Python reference query
use these; ``assets/zhiku-search-worker.js`` does the same in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tooling.text import ASCII_WORD, CJK_RUN, char_table, fold_chars

# The worker (assets/zhiku-search-worker.js) carries the same ranges as
# tooling.text.CJK_CLASS; tests/test_text.py compares them.
HAN_RUN = CJK_RUN
WORD = ASCII_WORD
_ASCII_ALNUM = re.compile(r"[a-z0-9]")


# ---------------------------------------------------------------- normalising


def traditional_to_simplified() -> Mapping[str, str]:
    """zhconv's one-character traditional -> simplified table (:func:`tooling.text.char_table`)."""
    return char_table()


def fold(text: str, t2s: Mapping[str, str]) -> str:
    """NFKC, lower case, traditional -> simplified, one character at a time
    (:func:`tooling.text.fold_chars`)."""
    return fold_chars(text, t2s)


class Normalizer:
    """Folds text and replaces synonyms by their group's first word."""

    def __init__(self, t2s: Mapping[str, str], groups: Iterable[Sequence[str]]) -> None:
        self.t2s = t2s
        self.canonical: dict[str, str] = {}
        for group in groups:
            words = [w for w in (fold(word, t2s).strip() for word in group) if w]
            for word in words:
                self.canonical.setdefault(word, words[0])
        self.longest = max(map(len, self.canonical), default=0)

    def __call__(self, text: str) -> str:
        text = fold(text, self.t2s)
        if not self.canonical:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            for size in range(min(self.longest, len(text) - i), 0, -1):
                word = text[i : i + size]
                if word in self.canonical and _whole_ascii_word(text, i, size):
                    out.append(self.canonical[word])
                    i += size
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _whole_ascii_word(text: str, start: int, size: int) -> bool:
    """A synonym that starts or ends with a letter/digit must not cut an ASCII word."""
    word = text[start : start + size]
    if _ASCII_ALNUM.match(word[0]) and start > 0 and _ASCII_ALNUM.match(text[start - 1]):
        return False
    end = start + size
    return not (_ASCII_ALNUM.match(word[-1]) and end < len(text) and _ASCII_ALNUM.match(text[end]))


def terms(normalized: str, unigrams: bool = True) -> list[str]:
    """CJK bigrams (and unigrams) plus ASCII words of already normalised text."""
    out: list[str] = []
    for run in HAN_RUN.findall(normalized):
        if unigrams:
            out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    out.extend(WORD.findall(normalized))
    return out
