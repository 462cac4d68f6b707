"""The learned brand-or-word decision: examples from what the rules are sure of, a model per brand,
and the matcher asking it only about the hits the rules cannot settle."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crawlers.base import Batch
from monitor import store
from monitor.brand_sense import BrandSense, SenseModel, hit_features
from monitor.cli import app
from monitor.config import BrandConfig, ConfigError, parse_config
from monitor.db.models import Mention, Workflow
from monitor.db.session import open_database, session_factory
from monitor.items import RawItem
from monitor.matching import BrandMatcher
from monitor.morphology import AnalysedText
from monitor.pipeline import Pipeline
from monitor.sense_training import staff_examples, train_sense

LENTA = BrandConfig(name="Лента", context=["гипермаркет"], exclude=["лента новостей"])
MTS = BrandConfig(name="МТС")


def test_features_are_the_words_around_the_hit_and_never_its_place_in_the_sentence():
    text = AnalysedText.analyse("лента опять подняла цены на сыр")
    features = hit_features(text, 0, 5, has_context=False)
    assert "form:лента" in features and "R1:опять" in features and "R2:подняла" in features
    assert "w:подня" in features and "w:цены" in features
    assert not any(f.startswith("L") for f in features)  # nothing before it: nothing said
    assert "context" not in features
    assert "context" in hit_features(text, 0, 5, has_context=True)


def test_examples_come_from_what_the_rules_are_sure_of():
    matcher = BrandMatcher.from_config([LENTA, MTS])
    [named] = matcher.sense_examples("Вчера в Ленте на Садовой купил сыр")
    assert (named.brand, named.is_brand, named.why) == ("Лента", True, "named")
    [excluded] = matcher.sense_examples("лента новостей сегодня пустая")
    assert (excluded.is_brand, excluded.why) == (False, "excluded")
    [bare] = matcher.sense_examples("выпускная лента и банты для дочки")
    assert (bare.is_brand, bare.why) == (False, "no_context")
    assert matcher.sense_examples("#лента") == []  # a hashtag's neighbours say nothing
    assert matcher.sense_examples("МТС снова без связи") == []  # not an ordinary word: nothing to learn


def shop_model(threshold: float = 0.4) -> SenseModel:
    """ "Лента" next to a checkout is the shop; next to a news feed it is not."""
    weights = {"w:касса": 4.0, "w:кассе": 4.0, "w:листа": -4.0, "context": 0.5}
    return SenseModel({"Лента": BrandSense(weights, bias=-1.0, threshold=threshold, examples=40)})


def test_the_model_finds_a_bare_hit_the_rules_would_drop():
    text = "лента сегодня: на кассе одна кассир, очередь до выхода"
    assert BrandMatcher.from_config([LENTA]).find(text) == []
    [match] = BrandMatcher.from_config([LENTA], shop_model()).find(text)
    assert (match.brand, match.decided_by) == ("Лента", "model") and match.probability > 0.9


def test_the_model_overrules_a_context_word_there_by_chance():
    text = "листаю ленту, а там опять реклама: гипермаркет открыли"
    assert [m.brand for m in BrandMatcher.from_config([LENTA]).find(text)] == ["Лента"]
    assert BrandMatcher.from_config([LENTA], shop_model()).find(text) == []


def test_sure_hits_never_reach_the_model():
    matcher = BrandMatcher.from_config([LENTA], shop_model(threshold=1.0))
    [match] = matcher.find("Листаю ленту, а Лента опять подняла цены")
    assert match.decided_by == "rules" and matcher.model_decisions == 0


def test_the_threshold_is_per_brand():
    text = "лента сегодня: на кассе одна кассир"
    strict = shop_model().with_thresholds({"Лента": 0.999})
    assert BrandMatcher.from_config([LENTA], strict).find(text) == []


def test_a_trained_model_learns_the_shops_words_from_sure_examples():
    shop = [f"Вчера в Ленте {w} на кассе, кассир хамит" for w in ("сыр", "хлеб", "молоко", "рыба")] * 3
    feed = [f"лента {w} листаю вечером" for w in ("новостей", "постов", "событий", "мемов")] * 3
    report = train_sense(BrandMatcher.from_config([LENTA]), shop + feed, min_examples=4)
    assert report.model is not None and "Лента" in report.model.brands
    assert report.examples[("Лента", "named")] == 12
    sense = report.model.brands["Лента"]
    assert sense.weights["w:кассе"] > 0 > sense.weights["w:листа"]


def test_too_few_examples_leave_the_brand_to_the_rules():
    report = train_sense(BrandMatcher.from_config([LENTA]), ["Вчера в Ленте купил сыр"])
    assert report.model is not None and report.model.brands == {}
    assert report.brands_left_to_rules(["Лента"]) == ["Лента"]


def test_the_model_file_round_trips_and_a_damaged_one_is_one_line(tmp_path):
    path = tmp_path / "sense.json"
    shop_model().save(path)
    loaded = SenseModel.load(path)
    assert loaded.brands["Лента"] == shop_model().brands["Лента"]
    path.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sense.json: not a brand-or-word model"):
        SenseModel.load(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sense.json: cannot read"):
        SenseModel.load(path)


def test_the_config_names_the_model_and_each_brand_s_threshold(tmp_path):
    path = tmp_path / "sense.json"
    shop_model().save(path)
    config = parse_config(
        f"brands:\n  - name: Лента\n    context: [гипермаркет]\n    sense_threshold: 0.8\n"
        f"matching:\n  model: {path}\n"
    )
    model = config.sense_model()
    assert model is not None and model.brands["Лента"].threshold == 0.8
    assert parse_config("brands:\n  - name: Лента\n").sense_model() is None


def test_match_train_and_match_eval_from_the_command_line(tmp_path):
    texts = tmp_path / "texts.csv"
    rows = [f"Вчера в Ленте {w} на кассе" for w in "абвгдеёжзи"] + [f"лента {w} листаю" for w in "абвгдеёжзи"]
    texts.write_text("text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "sense.json"
    config = tmp_path / "spiders.yaml"
    config.write_text(f"brands:\n  - name: Лента\n    context: [гипермаркет]\nmatching:\n  model: {model}\n")
    runner = CliRunner()
    trained = runner.invoke(app, ["match-train", "-c", str(config), "-i", str(texts), "-o", str(model)])
    assert trained.exit_code == 0, trained.output
    assert "Лента: trained" in trained.stderr and model.is_file()
    labelled = tmp_path / "labelled.csv"
    rows = "text,brands\nлента: на кассе очередь,Лента\nлиставшая ленту кошка,\n"
    labelled.write_text(rows, encoding="utf-8")
    shown = runner.invoke(app, ["match-eval", "-c", str(config), "-i", str(labelled)])
    assert shown.exit_code == 0, shown.output
    assert "learned brand-or-word decision" in shown.stdout and "hits judged" in shown.stdout
    plain = runner.invoke(app, ["match-eval", "-c", str(config), "-i", str(labelled), "--without-model"])
    assert "learned brand-or-word decision" not in plain.stdout


def test_staff_answers_become_examples(database_url):
    config = parse_config("brands:\n  - name: Лента\n    context: [гипермаркет]\n")
    pipeline = Pipeline(config, session_factory(open_database(database_url)))
    pipeline.register_sources()
    with pipeline.sessions.begin() as session:
        items = [
            RawItem("s", "yes", "https://x.example/1", "лента и гипермаркет рядом, на кассе толпа"),
            RawItem("s", "no", "https://x.example/2", "гипермаркет ленточек: лента атласная"),
        ]
        store.save_batch(session, "s", "rss", Batch(items, {}))
    pipeline.match_pending()
    with pipeline.sessions.begin() as session:
        workflows = {m.item.external_id: m.workflow for m in session.scalars(select(Mention))}
        workflows["yes"].status, workflows["no"].status = "in_progress", "ignored"
    with pipeline.sessions() as session:
        judged = {(e.why, e.is_brand) for e in staff_examples(session, pipeline.matcher)}
        assert session.scalar(select(Workflow.status).where(Workflow.status == "ignored")) == "ignored"
    assert judged == {("staff_yes", True), ("staff_no", False)}
