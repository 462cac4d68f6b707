"""The brand-aware e5 engine and its trainer, on a tiny e5 built in the test (never the shipped model)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment import LABELS, ModelLoadError, load_engine
from sentiment.e5_engine import E5BrandEngine, encode, predict_logits, quantize_rows, save_artifact
from sentiment.e5_vocab import load_pruned
from sentiment.train_e5 import CHECKPOINT, Trainer, TrainSettings, build_model, write_vocabulary_file
from tests.support.tiny_e5 import write_tiny_e5

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_e5(tmp_path_factory.mktemp("e5") / "tiny.npz")


@pytest.fixture(scope="module")
def artifact(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("artifact")
    model = build_model(load_pruned(tiny_base)).eval()
    vocabulary = write_vocabulary_file(load_pruned(tiny_base), folder / "vocabulary-source.npz")
    save_artifact(model, vocabulary, folder / "model", {"max_length": 64, "layers": 2})
    return folder / "model", model


def test_saved_model_loads_offline_and_scores_like_the_trained_one(artifact):
    directory, model = artifact
    engine = E5BrandEngine(directory, threads=1, precision="fp32")
    texts = ["Сбербанк опять списали деньги, ужасно", "спасибо за быстро", "", None]
    predictions = engine.predict(texts, brand="Сбербанк")
    assert [label for label, _ in predictions] and all(label in LABELS for label, _ in predictions)
    assert len(predictions) == 4
    ids = encode(engine.tokenizer, texts, ["Сбербанк"] * 4, 64)
    reference = torch.softmax(torch.from_numpy(predict_logits(model, ids, engine.pad_id)), -1).numpy()
    # Linear weights are stored as int8 with a scale per row: close to the trained model, not equal.
    assert np.abs(engine.predict_proba(texts, brand="Сбербанк") - reference).max() < 0.02


def test_the_brand_is_its_own_segment_before_the_text(artifact):
    engine = E5BrandEngine(artifact[0], threads=1)
    [ids] = encode(engine.tokenizer, ["Сбер лучше ВТБ"], ["ВТБ"], 64)
    pieces = engine.tokenizer.convert_ids_to_tokens(ids)
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    first_end = pieces.index("</s>")
    assert engine.tokenizer.decode(ids[1:first_end]).strip() == "ВТБ"
    assert pieces[first_end + 1] == "</s>"  # XLM-R pair: <s> A </s></s> B </s>


def test_one_text_gets_a_verdict_per_brand(artifact):
    engine = E5BrandEngine(artifact[0], threads=1)
    text = ["Сбер лучше чем ВТБ, в ВТБ очередь"]
    toward_sber = engine.predict_proba(text, brand="Сбербанк")
    toward_vtb = engine.predict_proba(text, brand="ВТБ")
    assert not np.allclose(toward_sber, toward_vtb)
    mixed = engine.predict_proba(text * 2, brand=["Сбербанк", "ВТБ"])
    assert np.allclose(mixed[0], toward_sber[0], atol=1e-5) and np.allclose(
        mixed[1], toward_vtb[0], atol=1e-5
    )


def test_a_text_without_brand_is_encoded_alone(artifact):
    engine = E5BrandEngine(artifact[0], threads=1)
    [ids] = encode(engine.tokenizer, ["спасибо"], [None], 64)
    assert engine.tokenizer.convert_ids_to_tokens(ids).count("</s>") == 1


def test_load_engine_builds_it_from_the_configuration(artifact):
    from monitor.config import SentimentConfig

    engine = load_engine(SentimentConfig(engine="e5", model=str(artifact[0]), threads=1))
    assert engine.name == "e5"
    assert len(engine.predict(["МТС связь"], brand="МТС")) == 1


def test_a_folder_without_the_model_files_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelLoadError, match=r"no encoder\.npz; not an e5 sentiment model directory"):
        E5BrandEngine(tmp_path)


def test_a_damaged_encoder_file_names_the_folder(artifact, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(artifact[0], copy)
    (copy / "encoder.npz").write_bytes(b"not an npz")
    with pytest.raises(ModelLoadError, match="cannot load the e5 sentiment model"):
        E5BrandEngine(copy)


def test_int8_rows_round_trip_within_half_a_step():
    matrix = np.random.default_rng(1).standard_normal((8, 16)).astype(np.float32)
    values, scale = quantize_rows(matrix)
    assert values.dtype == np.int8
    assert np.abs(values * scale[:, None] - matrix).max() <= scale.max() / 2 + 1e-6


# ------------------------------------------------------------------------------------- training

BRANDS = {"sberbank": "Сбербанк", "vtb": "ВТБ", "mts": "МТС", "beeline": "Билайн"}


@pytest.fixture
def datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rng = random.Random(3)
    root = tmp_path / "datasets"
    (root / "sentirueval2015").mkdir(parents=True)
    words = {
        "negative": "ужасно опять списали",
        "neutral": "офис карта тариф",
        "positive": "спасибо отлично быстро",
    }
    for domain, entities in (("banks", ["sberbank", "vtb"]), ("telecoms", ["mts", "beeline"])):
        rows = []
        for i in range(48):
            label, entity = LABELS[i % 3], entities[i % 2]
            rows.append(
                (
                    i,
                    1406224554 + i,
                    f"{BRANDS[entity]} {words[label]} {rng.choice(['!', '', '?'])}",
                    entity,
                    label,
                )
            )
        frame = pd.DataFrame(rows, columns=["id", "date", "text", "entity", "label"])
        frame.to_csv(root / "sentirueval2015" / f"{domain}_train.csv", index=False)
    monkeypatch.setenv("BRANDPULSE_DATASETS", str(root))
    return root


def _final_weights(output: Path) -> dict[str, np.ndarray]:
    saved = torch.load(output / CHECKPOINT, weights_only=False)
    return {k: v.numpy() for k, v in saved["model"].items()}


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_weights(datasets, tiny_base, tmp_path):
    settings = TrainSettings(epochs=2, batch_size=8, checkpoint_every=3, patience=5)
    log: list[str] = []
    whole = tmp_path / "whole"
    Trainer(whole, settings, tiny_base, log.append).run()

    parts = tmp_path / "parts"
    calls = {"n": 0}

    def stop_after_five() -> bool:
        calls["n"] += 1
        return calls["n"] >= 5

    first = Trainer(parts, settings, tiny_base, log.append)
    first.run(should_stop=stop_after_five)
    assert json.loads(json.dumps(first.state))["batch"] > 0 and first.state["epoch"] == 0
    second = Trainer(parts, settings, tiny_base, log.append)
    assert second.resume()
    state = second.run()
    assert state["epoch"] == 2 and len(state["history"]) == 2
    expected, got = _final_weights(whole), _final_weights(parts)
    assert expected.keys() == got.keys()
    for name in expected:
        assert np.allclose(expected[name], got[name], atol=1e-6), name
    assert (parts / "best.pt").is_file()


def test_resuming_with_other_settings_is_refused(datasets, tiny_base, tmp_path):
    Trainer(tmp_path, TrainSettings(epochs=1, batch_size=8), tiny_base, lambda line: None).run()
    other = Trainer(tmp_path, TrainSettings(epochs=1, batch_size=16), tiny_base, lambda line: None)
    with pytest.raises(SystemExit, match="written with other settings"):
        other.resume()


def test_brand_swap_copies_rows_with_another_company_of_the_same_domain():
    import random as _random

    from sentiment.train_e5 import Split, brand_swapped

    train = Split(
        ["Сбербанк опять списал деньги", "ВТБ спасибо", "МТС нет связи", "просто текст"],
        ["Сбербанк", "ВТБ", "МТС", "Сбербанк"],
        ["negative", "positive", "negative", "neutral"],
        ["banks", "banks", "telecoms", "banks"],
    )
    swapped = brand_swapped(train, 1.0, _random.Random(0))
    assert swapped.texts == ["ВТБ опять списал деньги", "Сбербанк спасибо"]
    assert swapped.brands == ["ВТБ", "Сбербанк"] and swapped.labels == ["negative", "positive"]


def test_extra_corpora_join_the_training_rows_without_a_brand(datasets, tiny_base, tmp_path):
    (datasets / "cedr").mkdir()
    pd.DataFrame({"text": ["радость", "грусть", "обычный день"], "labels": ["[0]", "[1]", "[]"]}).to_csv(
        datasets / "cedr" / "train.csv", index=False
    )
    trainer = Trainer(tmp_path, TrainSettings(extras="cedr"), tiny_base, lambda line: None)
    assert trainer.train.texts[-3:] == ["радость", "грусть", "обычный день"]
    assert trainer.train.labels[-3:] == ["positive", "negative", "neutral"]
    assert trainer.train.brands[-3:] == ["", "", ""]


def test_an_artifact_that_mixes_with_the_offline_model_multiplies_their_probabilities(artifact, tmp_path):
    import shutil

    from sentiment.hybrid import mix
    from sentiment.offline import load_model

    mixed = tmp_path / "mixed"
    shutil.copytree(artifact[0], mixed)
    metadata = json.loads((mixed / "metadata.json").read_text())
    (mixed / "metadata.json").write_text(json.dumps({**metadata, "mix_with_offline": True}))
    texts = ["Сбербанк опять списали деньги, ужасно", "спасибо МТС"]
    alone = E5BrandEngine(artifact[0], threads=1).predict_proba(texts, brand=["Сбербанк", "МТС"])
    offline = load_model(None)
    expected = mix(
        alone,
        np.vstack(
            [
                offline.predict_proba([texts[0]], brand="Сбербанк"),
                offline.predict_proba([texts[1]], brand="МТС"),
            ]
        ),
    )
    got = E5BrandEngine(mixed, threads=1).predict_proba(texts, brand=["Сбербанк", "МТС"])
    assert np.allclose(got, expected, atol=1e-5)


def test_bf16_scores_close_to_fp32_and_returns_float32(artifact):
    texts = ["МТС опять нет связи второй день", "Сбербанк, спасибо за помощь в отделении", "тариф"]
    exact = E5BrandEngine(artifact[0], threads=1, precision="fp32").predict_proba(texts, brand="МТС")
    short = E5BrandEngine(artifact[0], threads=1, precision="bf16")
    assert short.precision == "bf16"
    fast = short.predict_proba(texts, brand="МТС")
    assert fast.dtype == np.float32
    assert np.abs(fast - exact).max() < 0.05


def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(monkeypatch):
    from sentiment import precision

    monkeypatch.setattr(precision, "native_bf16", lambda: True)
    assert precision.resolve("auto") == "bf16"
    monkeypatch.setattr(precision, "native_bf16", lambda: False)
    assert precision.resolve("auto") == "fp32"
    assert precision.resolve("fp32") == "fp32"
    with pytest.raises(ValueError, match="fp16"):
        precision.resolve("fp16")


def test_an_int8_engine_stays_in_float32_activations(artifact):
    assert E5BrandEngine(artifact[0], threads=1, quantize=True, precision="bf16").precision == "fp32"


def test_precision_is_checked_in_the_configuration():
    from pydantic import ValidationError

    from monitor.config import SentimentConfig

    assert SentimentConfig().precision == "auto"
    with pytest.raises(ValidationError, match="precision"):
        SentimentConfig(precision="fp16")


def test_the_final_recipe_trains_on_the_dev_files_too(datasets, tiny_base, tmp_path):
    frame = pd.DataFrame(
        [(1, 1450000000, "ВТБ спасибо за кэшбэк", "vtb", "positive")],
        columns=["id", "date", "text", "entity", "label"],
    )
    frame.to_csv(datasets / "sentirueval2015" / "banks_test.csv", index=False)
    frame.iloc[:0].to_csv(datasets / "sentirueval2015" / "telecoms_test.csv", index=False)
    plain = Trainer(tmp_path / "plain", TrainSettings(), tiny_base, lambda line: None)
    final = Trainer(tmp_path / "final", TrainSettings(with_dev=True), tiny_base, lambda line: None)
    assert "ВТБ спасибо за кэшбэк" not in plain.train.texts
    assert "ВТБ спасибо за кэшбэк" in final.train.texts
    assert final.held.texts == plain.held.texts  # early stopping still reads the latest train tweets


def test_our_retail_posts_join_training_toward_their_brands(datasets, tiny_base, tmp_path):
    from sentiment.train_e5 import RETAIL_POSTS, retail_rows

    assert RETAIL_POSTS.is_file()  # shipped in the repository: written by us, not a shared dataset
    rows = retail_rows(limit=5)
    assert len(rows.texts) == 5 and all(rows.brands) and set(rows.labels) <= set(LABELS)
    trainer = Trainer(tmp_path, TrainSettings(extras="retail", limit=5), tiny_base, lambda line: None)
    assert trainer.train.texts[-5:] == rows.texts and trainer.train.brands[-5:] == rows.brands
    assert trainer.train.domains[-1] == "retail"


def test_a_broken_retail_file_is_one_line_naming_it(tmp_path):
    from sentiment.train_e5 import retail_rows

    path = tmp_path / "posts.csv"
    path.write_text("text,brand,label\nКурьер опоздал,Самокат,bad\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"posts.csv:2: label 'bad'"):
        retail_rows(path=path)
    path.write_text("text,label\nx,negative\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"posts.csv: no brand column"):
        retail_rows(path=path)
