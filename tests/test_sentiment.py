"""Sentiment engines: the shipped offline model, the transformers engine on a tiny BERT built here,
training on the shared datasets, and inputs that must never crash scoring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monitor.config import SentimentConfig
from sentiment import LABELS, ModelLoadError, SentimentEngine, load_engine
from sentiment.metrics import class_scores, confusion_matrix, macro_f1_pn
from sentiment.offline import DEFAULT_MODEL_DIR, brand_pattern, load_model, normalize

TINY_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "ужасный", "сервис", "деньги", "списали", "дважды", "поддержка", "молчит", "спасибо", "за",
    "быструю", "помощь", "банк", "хороший", "плохо", "отличный", "##ы", "##а", "the", "best",
    ",", "!", ".", "?",
]  # fmt: skip
RAW_LABELS = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}

EDGE_INPUTS = {
    "empty": "",
    "whitespace": "  \n\t  ",
    "none": None,
    "emoji_only": "😡😡😡👎",
    "100kb": "Сбербанк опять списал деньги. " * 1_900,  # ~100 KB of UTF-8
    "mixed_ru_en_uk": "Сбербанк the best, дуже дякую за швидку допомогу! Support was great",
}


def build_tiny_bert(directory: Path, id2label: dict[int, str]) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(
        vocab_file=str(directory / "vocab.txt"), do_lower_case=True, strip_accents=False
    )
    config = BertConfig(
        vocab_size=len(TINY_VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, num_labels=len(id2label),
        id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )  # fmt: skip
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        # Large classifier weights so different texts get clearly different probabilities.
        model.classifier.weight.normal_(0.0, 3.0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), RAW_LABELS)


@pytest.fixture(scope="module")
def tiny_engine(tiny_bert: Path) -> SentimentEngine:
    return load_engine(SentimentConfig(engine="transformers", model=str(tiny_bert), batch_size=2))


@pytest.fixture(scope="module")
def offline_engine() -> SentimentEngine:
    return load_engine(SentimentConfig(engine="offline"))


def assert_valid(predictions: list[tuple[str, float]], count: int) -> None:
    assert len(predictions) == count
    for label, score in predictions:
        assert label in LABELS
        assert 0.0 < score <= 1.0


# --- importing ------------------------------------------------------------------------------


def test_importing_sentiment_loads_no_heavy_libraries():
    code = (
        "import sys, sentiment; print([m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- transformers engine on a tiny BERT ------------------------------------------------------


def test_transformers_engine_loads_local_model_and_predicts(tiny_engine: SentimentEngine):
    assert tiny_engine.name == "transformers"
    assert isinstance(tiny_engine, SentimentEngine)
    assert_valid(tiny_engine.predict(["Ужасный сервис", "Спасибо за быструю помощь!"]), 2)


def test_transformers_engine_maps_id2label_names_to_ours(tiny_engine):
    assert tiny_engine.label_of_index == {0: "negative", 1: "neutral", 2: "positive"}


def test_transformers_engine_returns_model_probabilities_in_input_order(tiny_engine, tiny_bert):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    # Lengths differ so the length-sorted batches (batch_size=2) reorder the texts internally.
    texts = ["деньги списали дважды , поддержка молчит , банк плохо", "спасибо", "хороший банк !",
             "ужасный сервис", "отличный сервис , спасибо за быструю помощь"]  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert).eval()
    expected = []
    with torch.inference_mode():
        for text in texts:
            probabilities = torch.softmax(model(**tokenizer(text, return_tensors="pt")).logits, -1)[0]
            k = int(probabilities.argmax())
            expected.append((RAW_LABELS[k].lower(), float(probabilities[k])))
    got = tiny_engine.predict(texts)
    assert [label for label, _ in got] == [label for label, _ in expected]
    assert [score for _, score in got] == pytest.approx([score for _, score in expected], abs=1e-5)


def test_transformers_engine_uses_labels_from_config(tmp_path):
    model_dir = build_tiny_bert(tmp_path / "generic", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    config = SentimentConfig(
        engine="transformers", model=str(model_dir),
        labels={"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"},
    )  # fmt: skip
    engine = load_engine(config)
    assert engine.label_of_index == {0: "negative", 1: "neutral", 2: "positive"}
    assert_valid(engine.predict(["ужасный сервис"]), 1)


def test_transformers_engine_rejects_labels_it_cannot_map(tmp_path):
    model_dir = build_tiny_bert(tmp_path / "stars", {0: "1 star", 1: "3 stars", 2: "5 stars"})
    with pytest.raises(ModelLoadError) as error:
        load_engine(SentimentConfig(engine="transformers", model=str(model_dir)))
    message = str(error.value)
    assert "1 star, 3 stars, 5 stars" in message and "sentiment.labels" in message
    assert "\n" not in message


def test_transformers_engine_sums_probabilities_of_raw_labels_mapped_together(tmp_path):
    model_dir = build_tiny_bert(tmp_path / "stars", {0: "1 star", 1: "3 stars", 2: "5 stars", 3: "4 stars"})
    labels = {"1 star": "negative", "3 stars": "neutral", "4 stars": "positive", "5 stars": "positive"}
    engine = load_engine(SentimentConfig(engine="transformers", model=str(model_dir), labels=labels))
    for probabilities in engine.predict_proba(["хороший банк", "плохо"]):
        assert set(probabilities) == set(LABELS)
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_transformers_engine_fails_in_one_line_for_a_hub_id_not_available_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelLoadError) as error:
        load_engine(SentimentConfig(engine="transformers", model="brandpulse-tests/no-such-model"))
    assert str(error.value) == (
        "cannot load model brandpulse-tests/no-such-model: not found locally and no network"
    )


def test_transformers_engine_needs_a_model_name():
    with pytest.raises(ModelLoadError, match="sentiment.model is empty"):
        load_engine(SentimentConfig(engine="transformers"))


def test_transformers_engine_with_int8_quantization_predicts(tiny_bert):
    from sentiment.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_bert), quantize=True)
    assert_valid(engine.predict(["ужасный сервис", "спасибо"]), 2)


# --- the shipped offline model ---------------------------------------------------------------


def test_the_shipped_offline_engine_loads_without_a_model_path(offline_engine):
    assert offline_engine.name == "offline"
    assert isinstance(offline_engine, SentimentEngine)


def test_the_accurate_e5_engine_is_the_default():
    assert SentimentConfig().engine == "e5"


def test_without_torch_the_e5_engine_falls_back_to_the_offline_model(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    engine = load_engine(SentimentConfig(engine="e5"))
    assert engine.name == "offline"
    assert "torch is not installed" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "Ужасный сервис, деньги списали дважды, поддержка молчит",
        "Худший банк, никогда больше не буду их клиентом",
        "Опять нет связи весь день, звонить невозможно, бесит",
        "Карту заблокировали без объяснений, верните мои деньги!",
    ],
)
def test_offline_model_finds_clear_negatives(offline_engine, text):
    assert offline_engine.predict([text])[0][0] == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо за быструю помощь, всё решили за пять минут!",
        "Отличный банк, очень довольна обслуживанием 😊",
        "Лучший оператор, связь отличная, спасибо!",
    ],
)
def test_offline_model_finds_clear_positives(offline_engine, text):
    assert offline_engine.predict([text])[0][0] == "positive"


def test_offline_model_reproduces_the_probabilities_recorded_when_trained(offline_engine):
    # Guards against a scikit-learn or numpy change altering the hashing the weights depend on.
    for check in offline_engine.metadata["selfcheck"]:
        proba = offline_engine.predict_proba([check["text"]])[0]
        assert proba == pytest.approx(check["proba"], abs=2e-3), check["text"]


def test_offline_artifact_is_small_pickle_free_and_described():
    files = sorted(p.name for p in DEFAULT_MODEL_DIR.iterdir())
    assert files == ["metadata.json", "weights.npz"]
    assert sum((DEFAULT_MODEL_DIR / f).stat().st_size for f in files) <= 15 * 1024 * 1024
    with np.load(DEFAULT_MODEL_DIR / "weights.npz", allow_pickle=False) as arrays:
        assert arrays["coef"].dtype == np.float16
    metadata = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["classes"] == list(LABELS)
    for key in ("version", "features", "training_data", "dev", "hyperparameters", "commercial_use"):
        assert key in metadata


def test_offline_default_model_is_trained_without_non_commercial_data():
    metadata = load_model().metadata
    assert metadata["commercial_use"] is True
    assert "rusentiment" not in {d["name"] for d in metadata["training_data"]}


def test_offline_engine_with_a_missing_artifact_says_how_to_train_one(tmp_path):
    with pytest.raises(ModelLoadError, match="python -m sentiment.train_offline"):
        load_engine(SentimentConfig(engine="offline", model=str(tmp_path / "nothing-here")))


def test_offline_predict_accepts_a_brand(offline_engine):
    texts = ["Сбербанк опять списал деньги дважды", "В Сбербанке быстро помогли, спасибо"]
    assert [label for label, _ in offline_engine.predict(texts, brand="Сбербанк")] == ["negative", "positive"]


def test_normalize_replaces_urls_and_handles_and_squeezes_letters():
    text = "RT @user: Ёлки, ну оооочень плохо!!!!! http://t.co/AbC 😡"
    assert normalize(text) == "rt usertoken : елки, ну оочень плохо!! urltoken 😡"


def test_brand_pattern_finds_inflected_and_hyphenated_forms():
    pattern = brand_pattern(["Сбербанк", "Альфа-Банк"])
    assert pattern.search("в сбербанке очередь")
    assert pattern.search("кредит в альфа банке")
    assert not pattern.search("сбер")


# --- training on the shared datasets ---------------------------------------------------------


def test_model_trained_on_a_small_sample_beats_chance_on_held_out_rows(tmp_path):
    from dataclasses import replace

    from sentiment.offline import FeatureSettings
    from sentiment.train_offline import DatasetsMissing, datasets_dir, load_sentirueval, sentirueval_rows

    try:
        root = datasets_dir()
    except DatasetsMissing as exc:
        pytest.skip(f"needs ../shared/datasets (or BRANDPULSE_DATASETS): {exc}")
    from sentiment.offline import save_model
    from sentiment.train_offline import fit_engine

    frame = load_sentirueval(root, "telecoms", "train").sample(n=2_500, random_state=0)
    rows = sentirueval_rows(frame)
    index = np.arange(len(rows))
    train_rows, held_rows = rows.take(index[:2_000]), rows.take(index[2_000:])
    settings = replace(FeatureSettings(), char_features=2**16, word_features=2**14)
    engine = fit_engine(train_rows, settings)
    # Through the saved artifact, as a user would get it.
    save_model(tmp_path, engine.coef_t.T, engine.intercept, engine.classes, settings, {"version": "test"})
    predicted = [label for label, _ in load_model(tmp_path).predict(held_rows.texts)]
    # Always answering the majority class scores 0 on positive and < 0.5 on negative: F1pn < 0.25.
    assert macro_f1_pn(held_rows.labels, predicted) > 0.4


# --- inputs that must never crash ------------------------------------------------------------


@pytest.mark.parametrize("name", list(EDGE_INPUTS))
def test_offline_engine_labels_edge_inputs(offline_engine, name):
    assert_valid(offline_engine.predict([EDGE_INPUTS[name]]), 1)
    assert_valid(offline_engine.predict([EDGE_INPUTS[name]], brand="Сбербанк"), 1)


@pytest.mark.parametrize("name", list(EDGE_INPUTS))
def test_transformers_engine_labels_edge_inputs(tiny_engine, name):
    assert_valid(tiny_engine.predict([EDGE_INPUTS[name]]), 1)


@pytest.mark.parametrize("engine_fixture", ["offline_engine", "tiny_engine"])
def test_engines_score_a_mixed_batch_and_an_empty_one(request, engine_fixture):
    engine = request.getfixturevalue(engine_fixture)
    assert_valid(engine.predict(list(EDGE_INPUTS.values())), len(EDGE_INPUTS))
    assert engine.predict([]) == []


# --- metrics ---------------------------------------------------------------------------------


def test_macro_f1_pn_ignores_neutral():
    gold = ["negative", "negative", "positive", "neutral", "neutral"]
    predicted = ["negative", "neutral", "positive", "positive", "neutral"]
    # negative: P 1, R 0.5, F1 2/3; positive: P 0.5, R 1, F1 2/3
    assert macro_f1_pn(gold, predicted) == pytest.approx(2 / 3)
    assert class_scores(gold, predicted)["neutral"].support == 2


def test_confusion_matrix_rows_are_gold_columns_are_predictions():
    gold = ["negative", "positive", "positive"]
    predicted = ["negative", "negative", "positive"]
    assert confusion_matrix(gold, predicted) == [[1, 0, 0], [0, 0, 0], [1, 0, 1]]


def test_metrics_refuse_lists_of_different_lengths():
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        macro_f1_pn(["negative", "positive"], ["negative"])
