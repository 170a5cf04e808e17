"""The semantic signal, the vector cache, the self-calibration and the words-only fallback."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import EVAL_KB, entry_yaml, require_shared_eval

from tooling.answer import SearchIndex, embed
from tooling.answer.calibrate import _threshold, lean_on_meaning, people_weights, sure_budget
from tooling.answer.engine import candidates
from tooling.answer.index import Mask
from tooling.kb.check import validate
from tooling.kb.model import KnowledgeBase

MakeKb = Callable[[dict[str, str | bytes]], Path]


def _list(*items: str) -> str:
    return "".join(f"\n  - {item}" for item in items)


# Each entry's topic words appear in no other entry, so the right answer of every
# held-out phrasing is known by hand: its own entry.
DISTINCT = {
    "home/power-outage.yaml": entry_yaml(
        "power-outage",
        question="家里突然停电了怎么办?",
        rule="|\n  先看电闸有没有跳闸;整栋楼停电请拨打供电服务热线。",
        phrasings=_list("突然断电了", "屋里没电了找谁", "电闸跳了推不上去"),
        scenarios="\n  - case: 整栋楼都停电\n    answer: 拨打供电热线报修。",
    ),
    "home/elevator.yaml": entry_yaml(
        "elevator",
        question="电梯坏了或者有人被困在电梯里怎么办?",
        rule="|\n  按电梯里的警铃,拨打电梯上的救援电话,物业十分钟内到场。",
        phrasings=_list("电梯卡在半层不动", "被关在电梯里出不去", "电梯门打不开"),
        scenarios="\n  - case: 老人困在轿厢里\n    answer: 安抚并等待救援人员。",
    ),
    "shop/refund.yaml": entry_yaml(
        "refund",
        question="退款多久到账?",
        rule="|\n  仓库验货后发起退款,微信一到三天到账,银行卡三到七个工作日。",
        phrasings=_list("退款什么时候到账", "钱怎么还没退回来", "退的钱几天能收到"),
        scenarios="\n  - case: 退款超过七天没到\n    answer: 提供订单号查询。",
    ),
    "community/parking.yaml": entry_yaml(
        "parking",
        question="小区车位怎么租?月租多少钱?",
        rule="|\n  地下车位月租三百元,到物业前台签停车协议。",
        phrasings=_list("想租个车位", "地库停车怎么收费", "包月停车多少钱"),
        scenarios="\n  - case: 访客临时停车\n    answer: 前两小时免费。",
    ),
}


@pytest.fixture
def distinct_kb(make_kb: MakeKb) -> KnowledgeBase:
    result = validate(make_kb(dict(DISTINCT)))
    assert result.errors == []
    return result.kb


def test_a_question_in_other_words_is_found_by_meaning(distinct_kb: KnowledgeBase) -> None:
    # 家里黑了 shares no word, bigram or syllable with 停电/断电/没电.
    index = SearchIndex.build(distinct_kb, "staff")
    assert index.semantic
    scored = index.scored("家里黑了")
    assert scored[0].terms.entry.id == "power-outage"
    assert scored[0].semantic > scored[1].semantic


def test_self_calibration_holds_out_each_phrasing_and_each_entry(
    distinct_kb: KnowledgeBase,
) -> None:
    index = SearchIndex.build(distinct_kb, "staff", reuse=False)  # a stored one can't hold out
    estimate = index.estimate
    assert estimate is not None
    # 4 entries x (question + 3 phrasings): 16 answerable and 16 unanswerable.
    assert (estimate.answerable, estimate.unanswerable) == (16, 16)
    assert estimate.ranking_hit1 == 1.0  # every held-out phrasing finds its own entry
    assert estimate.wrongly_refused <= 0.05
    corpus = index._corpus
    # The threshold is the lowest held-out answerable confidence (16 x 5 % < 1).
    lowest = np.inf
    for e, entry in enumerate(corpus.entries):
        for u, unit in enumerate(entry.units):
            if unit.label.startswith("scenario"):
                continue
            vector = corpus.unit_vectors[corpus.unit_starts[e] + u]
            found = candidates(corpus, unit.analyzed, vector, index.fit.baseline, Mask(e, u))
            assert found is not None
            rank = found.rows @ index.fit.weights.rank_vector()
            best = int(np.argmax(rank))
            assert corpus.entries[found.positions[best]].entry.id == entry.entry.id
            lowest = min(lowest, index.fit.weights.confidences(found.rows)[best])
    assert index.fit.threshold == pytest.approx(lowest)


def test_rank_weights_lean_on_the_model_within_one_standard_error() -> None:
    """Of the rank weight pairs the hold-out cannot tell from the best (within one
    standard error of its hit@1), the one that leans most on the model is taken."""
    hits = {(0.0, 0.0): 0.80, (1.0, 0.0): 0.77, (1.0, 1.0): 0.78, (4.0, 2.0): 0.70}
    # 100 questions: one standard error of 0.80 is 0.04, so 0.76 and up are as good.
    assert lean_on_meaning(hits, 100) == (1.0, 1.0)
    # 10,000 questions tell 0.80 from 0.78: the best stands.
    assert lean_on_meaning(hits, 10_000) == (0.0, 0.0)
    # Equal sums: the better hit@1, then the smaller rule weight.
    assert lean_on_meaning({(2.0, 0.0): 0.5, (1.0, 1.0): 0.5, (0.0, 2.0): 0.49}, 100) == (
        2.0,
        0.0,
    )


def test_held_out_questions_are_reweighted_to_rank_as_entry_questions_do() -> None:
    """3 of 8 held-out questions rank their entry first; both entry questions among them
    do, so people's share is taken as (2 + 1/2) / (2 + 1) = 5/6: the right ones weigh
    (5/6) / (3/8), the others (1/6) / (5/8), and the weights average 1."""
    right = np.array([True, True, True, False, False, False, False, False])
    question = np.array([True, True, False, False, False, False, False, False])
    weights = people_weights(right, question)
    assert weights[:3] == pytest.approx([(5 / 6) / (3 / 8)] * 3)
    assert weights[3:] == pytest.approx([(1 / 6) / (5 / 8)] * 5)
    assert weights.mean() == pytest.approx(1.0)
    assert np.average(right, weights=weights) == pytest.approx(5 / 6)
    # Nothing to reweight to, or nothing to reweight: all 1.
    assert people_weights(right, np.zeros(8, dtype=bool)).tolist() == [1.0] * 8
    assert people_weights(np.ones(8, dtype=bool), question).tolist() == [1.0] * 8


def test_refusal_budget_holds_at_95_percent_confidence() -> None:
    # 5 % minus 1.645 standard errors of a 5 % share over the effective count.
    assert sure_budget(np.ones(400)) == pytest.approx(0.05 - 1.645 * (0.0475 / 400) ** 0.5)
    assert sure_budget(np.ones(100)) == pytest.approx(0.05 - 1.645 * (0.0475 / 100) ** 0.5)
    assert sure_budget(np.ones(51)) == 0.0  # too few to refuse any
    # Unequal weights count as fewer questions (Kish): 200 at 3 and 200 at 1 are 320.
    uneven = np.array([3.0] * 200 + [1.0] * 200)
    assert sure_budget(uneven) == pytest.approx(0.05 - 1.645 * (0.0475 / 320) ** 0.5)


def test_threshold_is_where_the_weighted_share_below_would_pass_the_budget() -> None:
    confidences = np.arange(400, dtype=float)[::-1]  # order does not matter
    budget = sure_budget(np.ones(400))  # 0.0321: 12 of 400 may be refused
    assert _threshold(confidences) == 12.0
    assert math.floor(budget * 400) == 12
    # The 12 lowest weighing 4 each count as 48 (of 436; 328 effective questions, so a
    # budget of 0.0302): only the 3 lowest fit (12 / 436 = 0.0275, 16 / 436 = 0.0367).
    weights = np.ones(400)
    weights[:12] = 4.0  # confidences 0..11 sit at the end of the reversed array
    weights = weights[::-1].copy()
    cut = sure_budget(weights)
    refused = int(_threshold(confidences, weights))
    assert refused == 3
    assert 4 * refused / 436 <= cut < 4 * (refused + 1) / 436


def test_masking_a_phrasing_hides_it_from_the_index(distinct_kb: KnowledgeBase) -> None:
    corpus = SearchIndex.build(distinct_kb, "staff", reuse=False)._corpus
    e = corpus.by_id["elevator"]
    held = corpus.entries[e].units[2]  # 被关在电梯里出不去
    assert held.text == "被关在电梯里出不去"
    masked = corpus.masked(Mask(e, 2))
    assert held.text not in [u.text for u in masked.units]
    assert "被关" not in masked.all[0] or any("被关" in u.terms[0] for u in masked.units)
    terms = corpus.query_terms(held.analyzed, Mask(e, 2))
    full = corpus.query_terms(held.analyzed)
    # 出不去 is only in the held-out phrasing: masked, it is as rare as an unknown word.
    assert terms.views[0]["出不去"] == pytest.approx(corpus.max_idf)
    assert full.views[0]["出不去"] < corpus.max_idf
    assert corpus.bm25(terms, Mask(e, 2))[e] < corpus.bm25(full)[e]
    assert corpus.bm25(terms, Mask(e))[e] == -np.inf


def test_second_build_embeds_nothing_and_one_change_embeds_one_text(
    make_kb: MakeKb, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    kb = validate(make_kb(dict(DISTINCT))).kb
    model = embed.embedder()
    assert model is not None
    first = embed.VectorCache(cache)
    from tooling.answer.index import Corpus

    Corpus(kb, "staff", None, model, first)
    texts = sum(1 + len(e.phrasings) + len(e.scenarios) for e in kb.entries) + len(kb.entries)
    assert first.embedded == texts
    again = embed.VectorCache(cache)
    Corpus(kb, "staff", None, model, again)
    assert again.embedded == 0
    files = dict(DISTINCT)
    files["shop/refund.yaml"] = files["shop/refund.yaml"].replace(
        "退的钱几天能收到", "钱几天能退回"
    )
    changed = validate(make_kb(files)).kb
    once_more = embed.VectorCache(cache)
    Corpus(changed, "staff", None, model, once_more)
    assert once_more.embedded == 1


def test_a_long_embedding_run_reports_its_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cold build of a big knowledge base embeds for minutes: it says how far it is
    (every 1,024 texts and at the end); a few texts embed silently."""
    model = embed.embedder()
    assert model is not None
    texts = [f"第{i}号楼的电梯什么时候检修" for i in range(embed.STORE_EVERY + 30)]
    with caplog.at_level(logging.INFO, logger=embed.__name__):
        embed.VectorCache(tmp_path / "cache").vectors(model, texts, "query")
    lines = [r.getMessage() for r in caplog.records if r.name == embed.__name__]
    assert lines[0].startswith(f"embedding {len(texts)} texts for the semantic model (once:")
    assert lines[1].startswith(f"embedded {embed.STORE_EVERY} of {len(texts)} texts in ")
    assert "s left" in lines[1]
    assert lines[2].startswith(f"embedded {len(texts)} texts in ")
    assert len(lines) == 3
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=embed.__name__):
        embed.VectorCache(tmp_path / "cache").vectors(model, [*texts[:10], "新的一句"], "query")
    assert [r for r in caplog.records if r.name == embed.__name__] == []


def test_a_related_entry_that_answers_a_held_out_entry_is_no_unanswerable_example(
    make_kb: MakeKb,
) -> None:
    """Calibration's unanswerable examples leave out a held-out entry's questions whose
    best candidate is one of its ``related`` entries: a see-also entry may answer them."""
    files = {
        "home/water-outage.yaml": entry_yaml(
            "water-outage",
            question="小区停水了怎么办?",
            rule="|\n  计划停水提前一天通知;突发停水请拨打物业热线。",
            phrasings=_list("家里突然没水了", "水龙头不出水了"),
        ),
        "home/water-outage-notice.yaml": entry_yaml(
            "water-outage-notice",
            question="小区停水通知在哪里看?",
            rule="|\n  计划停水提前一天在楼道和业主群通知。",
            phrasings=_list("家里没水了是停水吗", "水龙头不出水是不是停水"),
        ),
        "shop/invoice.yaml": entry_yaml(
            "invoice",
            question="怎么开发票?",
            rule="|\n  订单完成后在订单页申请电子发票。",
            phrasings=_list("发票在哪里申请", "能开专票吗"),
        ),
    }
    plain = SearchIndex.build(validate(make_kb(dict(files))).kb, "staff", reuse=False)
    files["home/water-outage.yaml"] += "related: [water-outage-notice]\n"
    linked = SearchIndex.build(validate(make_kb(files)).kb, "staff", reuse=False)
    assert plain.estimate is not None and linked.estimate is not None
    assert plain.estimate.unanswerable == 9  # each entry's question and 2 phrasings
    # The two water entries answer each other's questions: only the invoice ones stay.
    assert linked.estimate.unanswerable == 3


class _Counting:
    """The real model, counting the texts it is asked to embed (across threads)."""

    def __init__(self, model: embed.Model) -> None:
        self.model_id = model.model_id
        self._model = model
        self.texts = 0
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: embed.Kind) -> np.ndarray:
        with self._lock:
            self.texts += len(texts)
        return self._model.embed(texts, kind)


def test_two_builders_of_one_index_at_once_build_it_once(
    distinct_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """Two app workers warming up together: the second waits and loads the first's index."""
    real = embed.embedder()
    assert real is not None
    model = _Counting(real)
    cache = tmp_path / "cache"
    built: list[SearchIndex] = []

    def build() -> None:
        built.append(SearchIndex.build(distinct_kb, "staff", cache=cache, model=model))

    workers = [threading.Thread(target=build) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    e = distinct_kb.entries
    texts = sum(1 + len(x.phrasings) + len(x.scenarios) for x in e) + len(e)
    assert model.texts == texts  # once, not twice
    assert len(built) == 2
    assert built[0].search("屋里没电了") == built[1].search("屋里没电了")


def test_words_only_fallback_has_its_own_calibration(distinct_kb: KnowledgeBase) -> None:
    lexical = SearchIndex.build(distinct_kb, "staff", model=False)
    assert not lexical.semantic
    assert lexical.estimate is not None and not lexical.estimate.semantic
    w = lexical.fit.weights
    assert (w.rank_semantic, w.rank_rule, w.conf_semantic, w.conf_rule) == (0, 0, 0, 0)
    result = lexical.search("电梯卡住了")
    assert result.answered and result.hits[0].entry_id == "elevator"
    assert result.threshold == pytest.approx(lexical.fit.threshold, abs=1e-4)


def test_model_switched_off_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(embed.SEMANTIC_ENV, "off")
    embed.embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="tooling.answer.embed"):
            assert embed.embedder() is None
            assert embed.embedder() is None
        assert [r.getMessage() for r in caplog.records] == [
            "semantic matching is off (ZHIKU_SEMANTIC=off): answers are matched on words only"
        ]
    finally:
        embed.embedder.cache_clear()


def test_stored_index_is_reused(make_kb: MakeKb, tmp_path: Path) -> None:
    kb = validate(make_kb(dict(DISTINCT))).kb
    first = SearchIndex.cached(kb, "staff", cache=tmp_path)
    stored = list((tmp_path / "indexes").glob("*.pickle"))
    assert len(stored) == 1
    second = SearchIndex.cached(kb, "staff", cache=tmp_path)
    assert second is not first
    assert second.fit == first.fit
    assert second.search("电梯门打不开") == first.search("电梯门打不开")


# ------------------------------------------------------ on the shared eval KB


@pytest.fixture(scope="session")
def eval_index() -> SearchIndex:
    require_shared_eval()
    result = validate(EVAL_KB)
    return SearchIndex.build(result.kb, "staff")


@pytest.mark.parametrize(
    "query",
    ["小区旁边的地铁几点有首班车", "今天股票行情怎么样", "小区里能不能打羽毛球,几点开放"],
)
def test_off_topic_with_generic_words_is_refused(eval_index: SearchIndex, query: str) -> None:
    result = eval_index.search(query)
    assert not result.answered, result
    assert result.hits  # nearest entries, shown as suggestions


def test_weather_question_sharing_two_generic_words_is_refused(eval_index: SearchIndex) -> None:
    # 明天/时间 match an order-cutoff entry: time words are no evidence of the topic, and
    # its lead over the other candidates counts only as far as the topic is covered.
    assert not eval_index.search("明天什么时间会下雨").answered


def test_trapped_in_a_lift_is_answered(eval_index: SearchIndex) -> None:
    result = eval_index.search("电梯里被困住了出不来")
    assert result.answered
    assert result.hits[0].entry_id == "elevator-fault"
