"""Analysis: text -> the terms that indexing and matching compare.

Two views of the same text, so that one can catch what the other misses:

* **words**: jieba segmentation (search mode, which also yields the shorter
  words inside long ones), function words removed;
* **grams**: character bigrams inside the runs of content left between
  function words and punctuation. They do not depend on where jieba puts word
  boundaries, so ``楼道灯不亮`` still shares ``楼道``/``道灯`` with ``楼道灯坏了``,
  and a one-character typo only spoils the two bigrams around it.

Both views run on normalized text (:func:`tooling.text.fold`)
in which every synonym from ``_synonyms.yaml`` has been replaced by its group's
canonical word. Rewriting both the entries and the query to the same word is
synonym expansion at index and query time at once, and it keeps every term
count honest (a query word never matches twice through its synonyms).
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba

from tooling.answer import wordstore
from tooling.text import CJK_CLASS
from tooling.text import fold as normalize


@functools.cache
def _pinyin_of() -> Callable[..., list[str]] | None:
    """pypinyin's ``lazy_pinyin``, imported on first use: importing it costs 0.3 s or more
    (its phrase dictionary), and an analyzer loaded with a stored index already knows the
    pinyin of every word of the knowledge base. None when pypinyin is not installed."""
    try:  # pinyin lets a homophone typo (赔 typed as 陪) still match
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - optional
        return None
    return lazy_pinyin


jieba.setLogLevel(logging.WARNING)
PINYIN_CACHE_SIZE = 200_000
SEGMENT_CACHE_SIZE = 200_000

# Generic Chinese function words: pronouns, particles, modal verbs, question
# words and connectives. They say how something is asked, not what is asked.
# A general-purpose list, deliberately not derived from any set of queries.
STOPWORDS = frozenset(
    word
    for line in (
        "的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 哟 嘛 么 啦 哈 喔 呗 咯 嗯",
        "噢 哇 诶 嘞 我 你 您 他 她 它 我们 你们 他们 她们 它们 咱 咱们 俺",
        "人家 自己 大家 这 那 这个 那个 这些 那些 这种 那种 这样 那样 这么 那么",
        "这边 那边 这里 那里 此 怎么 怎样 怎么样 怎么办 咋 咋办 如何 什么 啥",
        "为什么 为啥 干嘛 哪 哪里 哪儿 哪个 哪些 是 是不是 是否 有 有没有 没有",
        "没 不 也 都 还 就 才 又 再 很 太 挺 更 最 已经 一直 还是 能 能不能",
        "能否 可以 可不可以 可否 会 会不会 要 要不要 想 需要 应该 得到 行 行不行",
        "请问 请 麻烦 一下 一个 个 一些 些 和 与 及 以及 或 或者 跟 同 把 被",
        "给 让 在 从 对 于 向 往 到 但 但是 而且 并且 因为 所以 如果 的话",
        "然后 之后 时候 的时候 现在 其实 呃 啥的 之类 等 等等 怎 谁 多少 几 如",
        "若 即 该 则 不能 不会 不行 不可以 一下子",
    )
    for word in line.split()
)

# General time expressions: they say when something is asked about, not what. They
# still match (几点 tells the opening-hours entry from the others), but they are no
# evidence that the knowledge base covers a question's topic, so the informative
# coverage (a confidence signal) leaves them out. A general-purpose list, like
# STOPWORDS, not derived from any set of queries.
WHEN_WORDS = frozenset(
    word
    for line in (
        "今天 明天 昨天 后天 前天 今晚 明晚 昨晚 每天 天天 平时 周末 工作日 节假日",
        "早上 上午 中午 下午 晚上 傍晚 半夜 凌晨 夜里 时间 时候 几点 几号 几时 多久",
        "多长时间 什么时候 最近 刚才 马上 以前 以后 之前 今年 明年 去年 这周 下周 上周",
        "本月 下个月 上个月",
    )
    for word in line.split()
)

_CJK = CJK_CLASS
_TERM_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RE = re.compile(rf"^[{_CJK}]+$")
_ALNUM_RE = re.compile(r"^[a-z0-9]+$")
_TOKEN_CHARS_RE = re.compile(rf"[^{_CJK}a-z0-9]+")


@dataclass(frozen=True)
class Analyzed:
    """A text's terms in both views (duplicates kept: they are term counts)."""

    words: tuple[str, ...]
    grams: tuple[str, ...]
    sounds: tuple[str, ...] = ()
    # Runs of content tokens (jieba words; a letter/digit chunk is a run of its
    # own) between function words and punctuation: the spans that confidence
    # scoring checks one by one.
    runs: tuple[tuple[str, ...], ...] = ()


class Analyzer:
    """Normalization, synonym folding, segmentation and bigrams for one knowledge base.

    Each analyzer owns a private jieba tokenizer (the synonyms are added to its
    dictionary so they stay whole) and never changes jieba's global state.
    """

    def __init__(self, synonyms: Iterable[Sequence[str]] = ()) -> None:
        self.canonical: dict[str, str] = {}
        for group in synonyms:
            forms = [normalize(g).strip() for g in group]
            words = [w for w in (_token_form(f) for f in forms) if w]
            if len(words) < 2:
                continue
            head = words[0]
            for form, word in zip(forms, words, strict=False):
                self.canonical.setdefault(word, head)
                self.canonical.setdefault(form, head)
        variants = sorted(self.canonical, key=lambda w: (-len(w), w))
        self._synonym_re = (
            re.compile("|".join(re.escape(w) for w in variants)) if variants else None
        )
        self._pinyin_cache: dict[str, tuple[str, ...]] = {}
        self._segments: dict[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {}
        self._jieba = _private_tokenizer()
        for word in set(self.canonical.values()):
            if _CJK_RE.match(word):
                self._jieba.add_word(word, freq=100_000)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the tokenizer (a copy of jieba's dictionary), rebuilt on load,
        and with the pinyin of the words seen so far (a loaded index then rarely needs
        pypinyin at all)."""
        state = dict(self.__dict__)
        del state["_jieba"]
        state["_pinyin_cache"] = dict(self._pinyin_cache)
        state["_segments"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """An analyzer loaded with a stored index only segments questions: it reads jieba's
        dictionary word by word from the stored file when there is one
        (:mod:`tooling.answer.wordstore`), instead of loading all of it."""
        self.__dict__.update(state)
        self._jieba = _private_tokenizer(wordstore.open_stored(_stored_folder))
        for word in set(self.canonical.values()):
            if _CJK_RE.match(word):
                self._jieba.add_word(word, freq=100_000)

    def fold(self, text: str) -> str:
        """Normalized text with every synonym replaced by its canonical word."""
        text = normalize(text)
        if self._synonym_re is not None:
            text = self._synonym_re.sub(lambda m: self.canonical[m.group(0)], text)
        return text

    def analyze(self, text: str) -> Analyzed:
        folded = self.fold(text)
        words: list[str] = []
        grams: list[str] = []
        sounds: list[str] = []
        runs: list[tuple[str, ...]] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                runs.append(tuple(run))
                grams.extend(bigrams(list("".join(run))))
                sounds.extend(bigrams([s for token in run for s in self.pinyin(token)]))
                run.clear()

        for chunk in _TERM_RE.findall(folded):
            if _ALNUM_RE.match(chunk):
                flush()
                words.append(chunk)
                grams.append(chunk)
                runs.append((chunk,))
                continue
            for token, inner in self._segment(chunk):
                if inner is None:  # a function word
                    flush()
                    continue
                run.append(token)
                words.extend(inner)
            flush()
        # One string object per distinct term: an index holds millions of references to
        # some tens of thousands of terms, and pickle stores (and loads) each object once.
        return Analyzed(
            tuple(map(sys.intern, words)),
            tuple(map(sys.intern, grams)),
            tuple(map(sys.intern, sounds)),
            tuple(tuple(map(sys.intern, run)) for run in runs),
        )

    def _segment(self, chunk: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        """jieba's tokens of one run of Chinese characters, each with its search words
        (None for a function word), cached: knowledge bases repeat whole sentences."""
        found = self._segments.get(chunk)
        if found is None:
            found = tuple(
                (token, None if _is_function_word(token) else tuple(self._search_words(token)))
                for token in self._jieba.cut(chunk, HMM=True)
            )
            if len(self._segments) < SEGMENT_CACHE_SIZE:
                self._segments[chunk] = found
        return found

    def tokens(self, chunk: str) -> tuple[str, ...]:
        """jieba's tokens of a run of Chinese characters (function words included)."""
        return tuple(token for token, _ in self._segment(chunk))

    def is_word(self, text: str) -> bool:
        """True when jieba's dictionary (with the synonyms) has ``text``."""
        return self.frequency(text) > 0

    def frequency(self, text: str) -> int:
        """How common ``text`` is in jieba's dictionary (0 when it is not there)."""
        return int(self._jieba.FREQ.get(text) or 0)

    def pinyin(self, token: str) -> tuple[str, ...]:
        """Toneless pinyin of a word (phrase-aware, so 团长 reads tuan zhang), cached."""
        found = self._pinyin_cache.get(token)
        if found is None:
            convert = _pinyin_of()
            found = tuple(convert(token, errors="ignore")) if convert is not None else ()
            if len(self._pinyin_cache) < PINYIN_CACHE_SIZE:
                self._pinyin_cache[token] = found
        return found

    def _search_words(self, token: str) -> list[str]:
        """The token, plus the dictionary words of 2 and 3 characters inside a long one."""
        if len(token) <= 2:
            return [token]
        inner = [token[i : i + n] for n in (2, 3) for i in range(len(token) - n + 1)]
        freq = self._jieba.FREQ
        return [token, *(w for w in inner if w != token and freq.get(w) and w not in STOPWORDS)]


@functools.cache
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default dictionary, loaded once per process."""
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def _private_tokenizer(stored: wordstore.StoredFreq | None = None) -> jieba.Tokenizer:
    """A tokenizer with its own copy of the dictionary (cheap next to loading it again),
    or reading the ``stored`` one."""
    tokenizer = jieba.Tokenizer()
    if stored is not None:
        tokenizer.FREQ, tokenizer.total = stored, stored.total
    else:
        freq, total = _base_dictionary()
        tokenizer.FREQ, tokenizer.total = dict(freq), total
    tokenizer.initialized = True
    return tokenizer


_stored_folder: Path | None = None


def use_stored_dictionary(folder: Path | None) -> None:
    """Where analyzers unpickled from now on look for jieba's stored dictionary."""
    global _stored_folder
    _stored_folder = folder


def store_dictionary(folder: Path) -> None:
    """Write jieba's dictionary under ``folder`` for the processes that load an index."""
    wordstore.ensure(folder, *_base_dictionary())


@functools.lru_cache(maxsize=65_536)
def _is_function_word(token: str) -> bool:
    """A stopword, or a run of stopwords that jieba kept together (``不能自己``)."""
    if token in STOPWORDS:
        return True
    return any(
        token[:i] in STOPWORDS and _is_function_word(token[i:]) for i in range(1, len(token))
    )


def bigrams(items: list[str]) -> list[str]:
    """Adjacent pairs (joined with ``_`` when longer than one character); a lone item stands
    for itself."""
    if len(items) == 1:
        return items
    sep = "" if all(len(x) == 1 for x in items) else "_"
    return [items[i] + sep + items[i + 1] for i in range(len(items) - 1)]


def is_cjk(text: str) -> bool:
    """True when the text is Chinese characters only."""
    return bool(_CJK_RE.match(text))


def _token_form(text: str) -> str:
    """A synonym as the analyzer will see it: letters, digits and CJK only."""
    return _TOKEN_CHARS_RE.sub("", text)
