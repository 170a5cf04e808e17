"""Typing repairs: a question's pinyin-input slips, mended with the knowledge base's own words.

Most typing mistakes in Chinese come from the pinyin input method: the right
sound, the wrong character (注销 typed 住销), or no characters at all (报修
typed ``baoxiu``). The lexical side already forgives them through the pinyin
bigrams of the *sounds* view, but the semantic model reads characters and is
lost. :class:`Repairs` rewrites such slips into the word the knowledge base
uses, before the question is analyzed and embedded:

* a run of Latin letters (spaces between syllables allowed) that spells, end to
  end, the toneless pinyin of one or more words of two or more characters in the
  knowledge base becomes those words (``baoxiu`` -> 报修, ``bao xiu dian hua`` ->
  报修电话);
* a question typed wholly in pinyin, words apart (``jifen zenme dikou``): the
  general function words (怎么, 什么, 的, ...) spell too, after the knowledge base's
  words; when the run does not spell end to end, the most letters that do are read,
  in groups of neighbouring words, a lone syllable as the knowledge base's
  one-character word of that sound, or as initials, and the rest stays (``wyf zenme
  jiao`` -> 物业费怎么交); letters that spell only function words stay (women);
* two to four consonants standing alone that are the pinyin initials of a
  knowledge-base word held by more entries than all the others with those
  initials together become that word (``wyf`` -> 物业费, ``kd`` -> 快递; ``wx``,
  shared by 微信, 无效, 午休, ..., stays);
* two characters that jieba cannot place (two lone characters, or a pair its
  dictionary does not have), that appear nowhere in the knowledge base side by
  side and are no function words, whose pinyin is that of one of its
  two-character words and which share exactly one of its characters in place,
  become that word (住销 -> 注销 when the knowledge base says 注销, 发漂 -> 发票,
  电体 -> 电梯). The character that changes must not be one the knowledge base
  already reads with its other neighbour: in 邻里鲜用, 鲜 belongs to 里鲜, so
  鲜用 does not become 限用.

Only the knowledge base's own vocabulary is used, so a repair can only move a
question towards words an entry uses; where two words sound alike, the one more
entries hold is taken. Nothing the knowledge base already has is repaired, so a
question in its words is left as it is, and the self-calibration's held-out
questions (the knowledge base's own text) are not repaired either.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from tooling.answer.analysis import STOPWORDS, is_cjk
from tooling.text import CJK_CLASS

_LATIN_RE = re.compile(r"[a-z]+(?: [a-z]+)*")
_CJK_RUN_RE = re.compile(rf"[{CJK_CLASS}]+")
MIN_LATIN = 4  # shorter Latin runs (vip, app...) are left alone
# Initials-only abbreviations (wyf for 物业费, kd for 快递): 2 to 4 letters, none of them
# a vowel (or v, so atm stays letters); longer ones are rare and read as letters.
INITIALS = frozenset("bcdfghjklmnpqrstwxyz")
MAX_INITIALS = 4
# Letters typed apart are read in groups of at most this many neighbouring words (a
# word of the knowledge base typed one syllable at a time: zhi fu bao); longer
# stretches are read as several groups, so a long run costs linear time.
MAX_GROUP = 6


class Repairs:
    """The knowledge base's words by their sound, and the character pairs it holds."""

    def __init__(
        self,
        word_df: Counter[str],
        gram_df: Counter[str],
        pinyin: Callable[[str], tuple[str, ...]],
        cut: Callable[[str], Iterable[str]],
        known: Callable[[str], bool],
        frequency: Callable[[str], int] = lambda word: 0,
    ) -> None:
        spelled: dict[str, tuple[int, str]] = {}
        sounded: dict[tuple[str, ...], tuple[int, str]] = {}
        abbreviated: dict[str, Counter[str]] = {}
        single: dict[str, tuple[int, str]] = {}
        for word, df in word_df.items():
            if len(word) == 1 and is_cjk(word) and word not in STOPWORDS:
                sound = pinyin(word)
                if len(sound) == 1 and sound[0].isalpha():
                    single[sound[0]] = max(single.get(sound[0], (0, "")), (df, word))
            if len(word) < 2 or not is_cjk(word):
                continue
            syllables = pinyin(word)
            if len(syllables) != len(word) or not all(s.isalpha() for s in syllables):
                continue
            key = "".join(syllables)
            spelled[key] = max(spelled.get(key, (0, "")), (df, word))
            initials = "".join(s[0] for s in syllables)
            if len(word) <= MAX_INITIALS and set(initials) <= INITIALS:
                abbreviated.setdefault(initials, Counter())[word] = df
            if len(word) == 2:
                sounded[syllables] = max(sounded.get(syllables, (0, "")), (df, word))
        # Function words (怎么, 什么, 可以, ...) spell too, after the knowledge base's own
        # words, so that a question typed wholly in pinyin reads as one; the analysis drops
        # them anyway. Letters that spell only function words stay letters (women, name).
        # Of function words that sound alike, the commonest (的 over 得 and 地).
        for word in sorted(STOPWORDS, key=lambda w: (-frequency(w), w)):
            syllables = pinyin(word) if is_cjk(word) else ()
            if len(syllables) == len(word) and all(s.isalpha() for s in syllables):
                spelled.setdefault("".join(syllables), (0, word))
        self._spelled = {k: w for k, (_, w) in spelled.items()}
        self._single = {k: w for k, (_, w) in single.items()}
        self._longest = max(map(len, self._spelled), default=0)
        self._sounded = {k: w for k, (_, w) in sounded.items()}
        # Initials are read as a word only when that word holds most of their weight: kd
        # is 快递 (in 10 entries) over 看到, 扩大, ... (1 each); wx, with 微信 in 3 entries
        # and 无效, 午休, 温馨, ... in 5, stays as typed; so does letters the knowledge base
        # itself uses (a model name, ...).
        self._initials = {
            k: w.most_common(1)[0][0]
            for k, w in abbreviated.items()
            if 2 * w.most_common(1)[0][1] > w.total() and k not in word_df
        }
        self._pairs = frozenset(g for g in gram_df if len(g) == 2 and is_cjk(g))
        self._pinyin = pinyin
        self._cut = cut
        self._known = known

    def __call__(self, text: str) -> str:
        """``text`` (normalized) with its slips repaired; unchanged when there are none."""
        text = _LATIN_RE.sub(self._latin, text)
        return _CJK_RUN_RE.sub(self._characters, text)

    def _latin(self, match: re.Match[str]) -> str:
        """Letters that spell, end to end, the pinyin of one or more of the knowledge base's
        words (spaces between syllables allowed): those words; else initials that stand
        for one (:meth:`_abbreviation`)."""
        run = match.group(0)
        letters = run.replace(" ", "")
        words = self._spell(letters) if len(letters) >= MIN_LATIN else None
        if words and not _function_words(words):
            return "".join(words)
        if " " in run:
            return self._apart(match)
        return self._abbreviation(match)

    def _apart(self, match: re.Match[str]) -> str:
        """Letters in words apart (a question typed in pinyin, ``jifen zenme dikou``) that
        do not spell knowledge-base words end to end as a whole: the most letters that
        do, in groups of neighbouring words each spelling some (``积分怎么抵扣``, 怎么 a
        function word; two or three letters only as function words: ``le`` -> 了), a
        syllable standing alone as the knowledge base's one-character word of that sound
        that most entries hold (``jiao`` -> 交), or initials standing alone
        (:meth:`_abbreviation`); the other words stay as typed. Unless some of them
        spell a knowledge-base word, the letters all stay."""
        tokens = match.group(0).split(" ")
        text = match.string
        digit_before = match.start() > 0 and text[match.start() - 1].isdigit()
        digit_after = match.end() < len(text) and text[match.end()].isdigit()
        # best[i] for tokens[:i]: (letters read as words, -pieces, pieces), each piece
        # (text, whether it holds a knowledge-base word, whether it is letters).
        best: list[tuple[int, int, list[tuple[str, bool, bool]]]] = [(0, 0, [])]
        for end in range(1, len(tokens) + 1):
            covered, count, pieces = best[end - 1]
            token = tokens[end - 1]
            options = [(covered, count - 1, [*pieces, (token, False, True)])]
            alone: list[str] | None = None  # the token spelled by itself
            for start in range(end - 1, max(end - MAX_GROUP, 0) - 1, -1):
                letters = "".join(tokens[start:end])
                if len(letters) > self._longest * (end - start):
                    break
                spelled = self._spell(letters)
                if start == end - 1:
                    alone = spelled
                if not spelled or (len(letters) < MIN_LATIN and not _function_words(spelled)):
                    continue  # short letters read only as function words (le, de)
                covered, count, pieces = best[start]
                read = ("".join(spelled), not _function_words(spelled), False)
                options.append((covered + len(letters), count - 1, [*pieces, read]))
            edge = (end == 1 and digit_before) or (end == len(tokens) and digit_after)
            # Initials, or a syllable as the knowledge base's one-character word of that
            # sound, unless it spells a function word (shi is 是, not the KB's 事).
            word = None if edge else self._initials.get(token)
            if word is None and not edge and not (alone and _function_words(alone)):
                word = self._single.get(token)
            if word is not None:
                covered, count, pieces = best[end - 1]
                options.insert(1, (covered + len(token), count - 1, [*pieces, (word, True, False)]))
            best.append(max(options, key=lambda o: (o[0], o[1])))
        chosen = best[-1][2]
        if not any(content for _, content, _ in chosen):
            return match.group(0)
        out, after_letters = "", False
        for words, _, as_typed in chosen:
            if out and (as_typed or after_letters):
                out += " "
            out += words
            after_letters = as_typed
        return out

    def _abbreviation(self, match: re.Match[str]) -> str:
        """Two to four consonants, no digit beside them (pm2.5), that are the pinyin initials
        of a knowledge-base word that more entries hold than all the other words with those
        initials together: that word (wyf -> 物业费)."""
        run, text = match.group(0), match.string
        beside = text[match.start() - 1 : match.start()] + text[match.end() : match.end() + 1]
        if any(c.isdigit() for c in beside):
            return run
        return self._initials.get(run, run)

    def _spell(self, letters: str) -> list[str] | None:
        """The fewest knowledge-base words whose pinyin, joined, is ``letters`` (None when
        there are none)."""
        best: list[list[str] | None] = [[]] + [None] * len(letters)
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - self._longest), end - 1):
                head, word = best[start], self._spelled.get(letters[start:end])
                found = best[end]
                if (
                    head is not None
                    and word is not None
                    and (found is None or len(head) < len(found) - 1)
                ):
                    best[end] = [*head, word]
        return best[-1]

    def _characters(self, match: re.Match[str]) -> str:
        """Two adjacent one-character tokens that are no word (jieba's, or a pair the
        knowledge base holds) and sound like a two-character word of the knowledge base
        sharing one of them in place: that word."""
        run = match.group(0)
        tokens = list(self._cut(run))
        out, i, at = [], 0, 0  # at: where tokens[i] starts in run
        while i < len(tokens):
            # A pair jieba could not place: two lone characters, or a two-character
            # token its dictionary does not have (made up by its HMM).
            width = 1 if len(tokens[i]) == 2 else 2
            pair = "".join(tokens[i : i + width])
            word = None
            if (
                len(pair) == 2
                and len(tokens[i]) == 3 - width
                and pair not in self._pairs
                and not self._known(pair)
                and not any(t in STOPWORDS for t in tokens[i : i + width])
            ):
                word = self._sounded.get(self._pinyin(pair[0]) + self._pinyin(pair[1]))
                if word is not None and not (word[0] == pair[0]) ^ (word[1] == pair[1]):
                    word = None  # exactly one character in common, in place
                elif word is not None and self._read_with_neighbour(run, at, word[0] != pair[0]):
                    word = None
            if word is not None:
                out.append(word)
                i += width
                at += 2
            else:
                out.append(tokens[i])
                at += len(tokens[i])
                i += 1
        return "".join(out)

    def _read_with_neighbour(self, run: str, at: int, first_changes: bool) -> bool:
        """True when the character of the pair at ``at`` that would change forms a pair the
        knowledge base holds with its outer neighbour (邻里鲜 + 用: 鲜 is no slip for 限)."""
        start = at - 1 if first_changes else at + 1
        outer = run[start : start + 2] if start >= 0 else ""
        return len(outer) == 2 and outer in self._pairs


def _function_words(words: Iterable[str]) -> bool:
    """True when every one of ``words`` is a function word (:data:`STOPWORDS`)."""
    return all(w in STOPWORDS for w in words)
