"""Ranking, normalization and refusal on a small knowledge base with close neighbours."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import entry_yaml

from tooling.answer import SearchIndex, normalize
from tooling.answer.analysis import Analyzer
from tooling.answer.index import Centering, Mask
from tooling.answer.ranking import Weights
from tooling.kb.check import validate


def _list(*items: str) -> str:
    return "".join(f"\n  - {item}" for item in items)


NEIGHBOURS = {
    "_synonyms.yaml": "- [退款, 退钱]\n- [漏水, 渗水, 滴水]\n- [停水, 断水, 没水]\n",
    "shop/return-window.yaml": entry_yaml(
        "return-window",
        question="7天无理由退货从哪天开始算?",
        rule="|\n  从签收次日起算,满7个自然日为止,物流途中的天数不计入。",
        phrasings=_list("超过7天了还能退货吗", "七天无理由是从下单算还是收货算"),
        tags="[退货, 时效]",
    ),
    "shop/exchange-size.yaml": entry_yaml(
        "exchange-size",
        question="尺码不合适怎么换货?",
        rule="|\n  签收后7天内可以申请换尺码或颜色,寄回后我们包邮寄出新商品。",
        phrasings=_list("衣服小了想换大一号", "能换个颜色吗"),
        scenarios="\n  - case: 黑色M想换成白色L\n    answer: 可以,同款有货即可换。",
        tags="[换货, 尺码]",
    ),
    "shop/refund-timeline.yaml": entry_yaml(
        "refund-timeline",
        question="退款多久到账?",
        rule="|\n  仓库验货通过后发起退款:微信、支付宝1到3天,银行卡3到7个工作日原路退回。",
        phrasings=_list("退款什么时候能到", "钱怎么还没退回来"),
        tags="[退款, 时效]",
    ),
    "property/notice-water-outage.yaml": entry_yaml(
        "notice-water-outage",
        question="1月12日5到8号楼为什么停水?停到几点?",
        rule="|\n  二次供水水箱清洗,1月12日9:00到17:00停水,请提前储水。",
        phrasings=_list("今天为什么停水", "8号楼什么时候来水"),
        tags="[通知, 停水]",
    ),
    "property/water-leak.yaml": entry_yaml(
        "water-leak",
        question="家里漏水了怎么报修?",
        rule="|\n  先关总阀,拍照后在小程序报修,维修师傅2小时内上门查找漏点。",
        phrasings=_list("天花板在滴水", "水管爆了怎么办"),
        tags="[报修, 漏水]",
    ),
    "property/water-bill.yaml": entry_yaml(
        "water-bill",
        question="水费怎么算?为什么这个月水费这么高?",
        rule="|\n  水费按水表读数每月抄表计费,单价3.5元每吨;用量异常可申请复核水表。",
        phrasings=_list("水费突然变贵了", "水表多久抄一次"),
        tags="[水费, 收费]",
    ),
}


@pytest.fixture
def index(make_kb: Callable[[dict[str, str | bytes]], Path]) -> SearchIndex:
    result = validate(make_kb(dict(NEIGHBOURS)))
    assert result.errors == []
    return SearchIndex.build(result.kb, "staff")


def _top(index: SearchIndex, query: str) -> str:
    result = index.search(query)
    assert result.hits, f"nothing found for {query!r}"
    return result.hits[0].entry_id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("签收第八天还能退货吗", "return-window"),
        ("裤子买大了能换小一号吗", "exchange-size"),
        ("退的钱几天能回到银行卡", "refund-timeline"),
        ("水管在渗水", "water-leak"),
        ("今天几点恢复供水", "notice-water-outage"),
        ("这个月水费怎么比上个月多这么多", "water-bill"),
    ],
)
def test_close_neighbours_are_told_apart(index: SearchIndex, query: str, expected: str) -> None:
    assert _top(index, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("退款多久到賬", "refund-timeline"),  # traditional characters
        ("７天无理由退货从哪天算", "return-window"),  # full-width digit
        ("水费怎么酸", "water-bill"),  # homophone typo: 酸 for 算
        ("家里露水了", "water-leak"),  # homophone typo: 露 for 漏
    ],
)
def test_traditional_full_width_and_typos(index: SearchIndex, query: str, expected: str) -> None:
    assert _top(index, query) == expected


def test_refusal_is_the_fitted_threshold_on_the_best_confidence(index: SearchIndex) -> None:
    # Six entries are too few to refuse reliably (the threshold is then the lowest
    # held-out confidence); tests/test_search_semantic.py checks refusals on the eval KB.
    result = index.search("小区游泳池夏天几点开放,要买门票吗")
    assert result.threshold == round(index.fit.threshold, 4)
    assert result.answered == (result.confidence >= result.threshold)
    assert result.hits  # the nearest candidates are still there for suggestions
    assert result.hits[0].why.endswith("覆盖提问内容 9%;匹配:几点")


def test_confidence_weighs_the_rarest_words_most(index: SearchIndex) -> None:
    # 水费 is known, 比特币 is not: squared IDF weights let the unknown topic word
    # count for more in the refusal's coverage than in the ranking's.
    best = index.scored("比特币水费")[0]
    assert best.terms.entry.id == "water-bill"
    assert 0 < best.informative < best.coverage < 1
    w = index.fit.weights
    rank = best.bm25 + best.coverage + best.nearest
    rank += w.rank_semantic * best.centred + w.rank_rule * best.centred_rule
    assert best.score == pytest.approx(rank)
    full = index.scored("水费怎么算")[0]
    assert full.informative == full.coverage == 1.0


def test_time_words_match_but_are_no_evidence_of_the_topic(index: SearchIndex) -> None:
    """今天 and 几点 find the water-outage notice (they are in it), but a question that
    shares nothing else with it covers none of its topic: the informative coverage
    leaves time expressions out, the ranking's coverage keeps them."""
    best = index.scored("今天几点会下雨")[0]
    assert best.terms.entry.id == "notice-water-outage"
    assert set(best.matched) >= {"今天", "几点"}
    assert best.coverage > 0.4
    assert best.informative == 0.0
    topical = index.scored("今天几点停水")[0]
    assert topical.terms.entry.id == "notice-water-outage"
    assert topical.informative == 1.0


def test_a_lead_counts_only_as_far_as_the_topic_is_covered() -> None:
    """The margin (how far the best entry is ahead) adds to the confidence in
    proportion to the best entry's informative coverage: a lone match of words that are
    no evidence of the topic is far ahead of nothing, which says nothing."""
    weights = Weights(conf_margin=1.0)
    #             bm25 coverage nearest informative semantic rule centred centred_rule
    lone = np.array([[1.0, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 8])
    assert weights.confidences(lone)[0] == pytest.approx(0.2)  # nearest + informative only
    topical = lone.copy()
    topical[0, 3] = 0.5
    margin = 1.0 + 0.5 + 0.2  # its rank score; the other candidate's is 0
    assert weights.confidences(topical)[0] == pytest.approx(0.2 + 0.5 + 0.5 * margin)


def test_the_lead_is_read_with_the_raw_cosines() -> None:
    """The rank score reads the centred cosines, the confidence's margin the raw ones:
    an entry first only by the centred cosine is behind by the raw one, so its margin
    is negative and its confidence lower than the other's would be."""
    weights = Weights(rank_semantic=1.0, conf_margin=1.0)
    #      bm25 coverage nearest informative semantic rule centred centred_rule
    rows = np.array([[0, 0, 0, 1.0, 0, 0, 1.0, 0], [0, 0, 0, 1.0, 1.0, 0, 0, 0]])
    rank = rows @ weights.rank_vector()
    assert rank[0] > rank[1]  # first by the centred cosine
    confidence = weights.confidences(rows)
    assert confidence[0] == pytest.approx(1.0 - 1.0)  # informative + a margin of -1
    assert confidence[1] == pytest.approx(1.0 + 1.0)


def test_centring_equals_the_cosines_of_the_centred_vectors() -> None:
    """Centering.cosines, computed from the raw cosines and a few dot products, equals
    the cosines of the vectors with each space's mean taken out."""
    rng = np.random.default_rng(0)

    def unit_rows(n: int) -> np.ndarray:
        x = rng.normal(size=(n, 16)) + 3.0  # a common direction, as e5's vectors have
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    units, rules, asked = unit_rows(12), unit_rows(5), unit_rows(3)
    centring = Centering.of(units, rules)

    def centred(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
        y = x - mean
        return y / np.linalg.norm(y, axis=-1, keepdims=True)

    cu, cr = centred(units, units.mean(0)), centred(rules, rules.mean(0))
    many = centring.cosines(asked, asked @ units.T, asked @ rules.T)
    one = centring.cosines(asked[0], units @ asked[0], rules @ asked[0])
    q = centred(asked, units.mean(0))
    assert np.allclose(many[0], q @ cu.T) and np.allclose(many[1], q @ cr.T)
    assert np.allclose(one[0], cu @ q[0]) and np.allclose(one[1], cr @ q[0])
    # Taken out, the common direction no longer makes every pair look alike.
    assert np.mean(asked @ units.T) > 0.8 > np.mean(np.abs(many[0]))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("退款一般几天能到账", "refund-timeline"),
        ("尺码不合适能换吗", "exchange-size"),
        ("天花板滴水怎么报修", "water-leak"),
    ],
)
def test_close_paraphrase_is_answered(index: SearchIndex, query: str, expected: str) -> None:
    result = index.search(query)
    assert result.answered
    assert result.hits[0].entry_id == expected


def test_hit_fields_and_limit(index: SearchIndex) -> None:
    result = index.search("为什么这个月水费这么高", limit=2)
    assert len(result.hits) == 2
    assert index.search("为什么这个月水费这么高", limit=5).hits[:2] == result.hits
    hit = result.hits[0]
    assert hit.entry_id == "water-bill"
    assert hit.question == "水费怎么算?为什么这个月水费这么高?"
    assert hit.score > result.hits[1].score
    assert hit.why.startswith("最接近的标准问「水费怎么算?为什么这个月水费这么高?」")


def test_query_of_only_function_words_finds_nothing(index: SearchIndex) -> None:
    result = index.search("怎么办呢?")
    assert not result.answered
    assert result.hits == ()


def test_public_audience_leaves_internal_entries_out(
    make_kb: Callable[[dict[str, str | bytes]], Path],
) -> None:
    files = dict(NEIGHBOURS)
    files["shop/refund-timeline.yaml"] += "audience: internal\n"
    kb = validate(make_kb(files)).kb
    public = SearchIndex.build(kb, "public")
    assert "refund-timeline" not in public.entry_ids()
    assert "refund-timeline" in SearchIndex.build(kb, "staff").entry_ids()
    with pytest.raises(ValueError, match="audience"):
        SearchIndex.build(kb, "everyone")


def test_normalize() -> None:
    assert normalize("電梯壞了") == "电梯坏了"
    assert normalize("ＶＩＰ会員１２３") == "vip会员123"


def test_analyzer_folds_synonyms_and_drops_function_words() -> None:
    analyzer = Analyzer([("物业费", "管理费", "物管费"), ("Wi-Fi", "WiFi", "无线网")])
    found = analyzer.analyze("我的管理費怎么交呢? wifi")
    assert "物业费" in found.words
    assert "wifi" in found.words
    assert not {"我", "的", "怎么", "呢"} & set(found.words)
    assert analyzer.analyze("楼道灯").grams == ("楼道", "道灯")


def test_a_loaded_index_segments_with_the_stored_dictionary(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> None:
    """Storing an index writes jieba's dictionary beside it; an index loaded in a new
    process reads it word by word (no pypinyin either for the KB's own words) and
    answers exactly as the index that was built."""
    from tooling.answer import wordstore

    kb = validate(make_kb(dict(NEIGHBOURS))).kb
    cache = tmp_path / "cache"
    built = SearchIndex.build(kb, "staff", cache=cache, model=False)
    assert wordstore.path_in(cache).exists()
    loaded = SearchIndex.build(kb, "staff", cache=cache, model=False)
    assert loaded is not built
    assert isinstance(loaded._corpus.analyzer._jieba.FREQ, wordstore.StoredFreq)
    assert loaded._corpus.analyzer._pinyin_cache  # the KB's words kept their pinyin
    for query in ("签收第八天还能退货吗", "今天几点恢复供水", "水管在渗水", "股票行情怎么样"):
        fresh = Analyzer(kb.synonyms).analyze(query)
        assert loaded._corpus.analyzer.analyze(query) == fresh
        assert loaded.search(query) == built.search(query)
    with pytest.raises(RuntimeError, match="hold out"):  # stored without the term counts
        loaded._corpus.masked(Mask(0, 0))
    # Loading freezes the heap for the cyclic collector (gc.freeze); an index has no
    # reference cycles, so the app's replaced indexes are still freed at once.
    alive = [weakref.ref(loaded), weakref.ref(loaded._corpus), weakref.ref(loaded.fit)]
    del loaded
    assert [ref() for ref in alive] == [None, None, None]
