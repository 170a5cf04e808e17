"""How the browser search cuts text into terms: the same rules as its web worker.

* normalise: Unicode NFKC, lower case, traditional -> simplified one character
  at a time (the table comes from zhconv; the index ships the part of it that
  can matter for this knowledge base), then every member of a synonym group
  (``_synonyms.yaml``) is replaced by the group's first word, longest first;
* terms: every CJK character and every pair of neighbouring CJK characters
  (unigrams and bigrams), plus ASCII words;
* sounds: what someone types in pinyin without choosing the characters
  (``baoxiu`` for 报修). The index holds the toneless pinyin of each pair of
  neighbouring characters of the ways an entry is asked (``bao xiu``,
  :func:`sound_terms`, phrase-aware through pypinyin, so 团长 is ``tuan zhang``)
  and ships the syllables they use; a query's run of four or more Latin letters
  (spaces between syllables allowed) that splits, end to end, into those
  syllables adds its syllable pairs as terms (:func:`spelled_terms`). Letters
  that do not split (``wifi``, ``coupon``) only stay ASCII words.

The index (:mod:`tooling.site.search_index`) and its Python reference query
use these; ``assets/zhiku-search-worker.js`` does the same in the browser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import pairwise

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


# ------------------------------------------------------------------- sounds

LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
MIN_SPELLED = 4  # shorter Latin runs (vip, app, ok) are left as letters
MAX_SYLLABLE = 6  # zhuang, chuang, shuang


class Pinyin:
    """Toneless pinyin of a CJK run, one syllable per character: a character takes its
    reading in the two-character word it forms with its right neighbour, else with its
    left one (pypinyin's phrase table: 团长 is tuan zhang, 便宜 pian yi), else its most
    common reading; empty for a character with none. This agrees with pypinyin's
    phrase-aware ``lazy_pinyin`` on 99.95 % of the syllable pairs of the eval knowledge
    base's questions, phrasings and tags, in a quarter of its time or less (a site
    build reads every entry's: at 5,000 entries about 1 s of CPU, against 3.7 s with
    ``lazy_pinyin``)."""

    def __init__(self) -> None:
        from pypinyin.constants import PHRASES_DICT, PINYIN_DICT  # 0.3 s: at the first build
        from pypinyin.contrib.tone_convert import to_normal

        self._phrases = PHRASES_DICT
        self._chars = PINYIN_DICT
        self._normal = to_normal
        self._cache: dict[str, str] = {}

    def _syllable(self, marked: str) -> str:
        found = self._cache.get(marked)
        if found is None:
            plain = self._normal(marked)
            found = self._cache[marked] = plain if plain.isascii() and plain.isalpha() else ""
        return found

    def _in_word(self, word: str, at: int) -> str | None:
        readings = self._phrases.get(word)
        if readings is None or len(readings) != 2 or not readings[at]:
            return None
        return self._syllable(readings[at][0])

    def __call__(self, run: str) -> list[str]:
        out = []
        for i, ch in enumerate(run):
            found = self._in_word(run[i : i + 2], 0) if i + 1 < len(run) else None
            if found is None and i > 0:
                found = self._in_word(run[i - 1 : i + 1], 1)
            if found is None:
                readings = self._chars.get(ord(ch))
                found = self._syllable(readings.split(",")[0]) if readings else ""
            out.append(found)
        return out


@functools.cache
def _reader() -> Pinyin:
    return Pinyin()  # the tables load once per process, at the first index built


def pinyin(run: str) -> list[str]:
    """:class:`Pinyin` of ``run``."""
    return _reader()(run)


def sound_terms(normalized: str) -> list[str]:
    """The toneless pinyin of each pair of neighbouring CJK characters (``"bao xiu"``),
    read by :func:`pinyin`."""
    out: list[str] = []
    for run in HAN_RUN.findall(normalized):
        syllables = pinyin(run)
        if len(syllables) != len(run):
            continue
        out.extend(f"{a} {b}" for a, b in pairwise(syllables) if a and b)
    return out


def split_syllables(letters: str, syllables: Collection[str]) -> list[str] | None:
    """The fewest ``syllables`` that spell ``letters`` end to end (None when none do); of
    equally few, the first found (each syllable as long as it can be, from the end:
    ``xian`` stays one syllable). The worker's ``splitSyllables`` runs the same loops."""
    best: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - MAX_SYLLABLE), end):
            head = best[start]
            if head is None or letters[start:end] not in syllables:
                continue
            found = best[end]
            if found is None or len(head) + 1 < len(found):
                best[end] = [*head, letters[start:end]]
    return best[-1]


def query_terms(normalized: str, syllables: Collection[str]) -> list[str]:
    """What a query is looked up by: its :func:`terms` and its :func:`spelled_terms`."""
    return terms(normalized) + spelled_terms(normalized, syllables)


def spelled_terms(normalized: str, syllables: Collection[str]) -> list[str]:
    """The syllable pairs (:func:`sound_terms`) of each run of Latin letters that splits,
    end to end, into two or more of ``syllables``: ``baoxiu`` -> ``["bao xiu"]``."""
    out: list[str] = []
    for run in LATIN_RUN.findall(normalized):
        letters = run.replace(" ", "")
        if len(letters) < MIN_SPELLED:
            continue
        split = split_syllables(letters, syllables)
        if split and len(split) > 1:
            out.extend(f"{a} {b}" for a, b in pairwise(split))
    return out
