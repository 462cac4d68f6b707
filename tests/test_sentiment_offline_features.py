"""The offline model's features and training data: negation, the LINIS lexicon block, the
artifact round trip with a lexicon, dataset readers that name the file they could not read,
and duplicate texts sharing weight. Dataset tests skip when ../shared/datasets is absent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment import ModelLoadError
from sentiment.datasets import (
    DatasetError,
    DatasetsMissing,
    Rows,
    datasets_dir,
    extra_rows,
    lexicon,
    load_linis,
    load_sentirueval,
    sentirueval_rows,
)
from sentiment.lexicon import LEXICON_COLUMNS, expand_forms, lexicon_features, negated
from sentiment.metrics import macro_f1_pn
from sentiment.offline import FeatureSettings, Featurizer, load_model, save_model
from sentiment.train_offline import fit_engine

SMALL = FeatureSettings(char_features=2**12, word_features=2**10, brand_features=2**8)
RATINGS = {"плохой": -1.5, "ужасный": -2.0, "хороший": 1.5, "работать": 0.6}


@pytest.fixture(scope="module")
def shared_root() -> Path:
    try:
        return datasets_dir()
    except DatasetsMissing as exc:
        pytest.skip(f"needs ../shared/datasets (or BRANDPULSE_DATASETS): {exc}")


# --- negation and lexicon ---------------------------------------------------------------------


def test_negated_marks_the_word_after_a_negator():
    assert negated(["связь", "не", "работает", "нет", "денег"]) == ["не_работает", "не_денег"]
    assert negated(["все", "работает"]) == []


def test_negation_setting_adds_features_only_for_negated_texts():
    plain = Featurizer(SMALL)
    with_negation = Featurizer(replace(SMALL, negation=True))
    text = ["связь работает"]
    assert (plain.transform(text) != with_negation.transform(text)).nnz == 0
    negated_text = ["связь не работает"]
    assert with_negation.transform(negated_text).nnz > plain.transform(negated_text).nnz


def test_expand_forms_rates_every_inflected_form_of_a_lexicon_lemma():
    forms = expand_forms({"ужасный": -2.0, "тормозить": -1.0, "urltoken": 0.5})
    assert forms["ужасные"] == forms["ужасного"] == -2.0
    assert forms["тормозит"] == -1.0
    assert forms["urltoken"] == 0.5


def test_lexicon_features_count_rated_lemmas_and_flip_negated_ones():
    neg_count, pos_count, neg_sum, pos_sum, lowest, highest = lexicon_features(
        ["ужасный", "и", "плохой", "сервис"], RATINGS
    )
    assert (neg_count, pos_count) == (2, 0)
    assert neg_sum == pytest.approx(3.5) and lowest == -2.0 and highest == -1.5 and pos_sum == 0
    # "не хороший" counts as negative.
    assert lexicon_features(["не", "хороший"], RATINGS)[:2] == [1, 0]


def test_lexicon_block_adds_dense_columns_scored_from_the_lexicon():
    settings = replace(SMALL, lexicon_weight=0.5)
    assert settings.n_features == SMALL.n_features + len(LEXICON_COLUMNS)
    features = Featurizer(settings, RATINGS).transform(["ужасный сервис", "нейтральный текст"])
    assert features.shape == (2, settings.n_features)
    lexicon_part = features[:, -len(LEXICON_COLUMNS) :].toarray()
    assert lexicon_part[0, 0] > 0 and not lexicon_part[1].any()


def test_model_with_lexicon_round_trips_through_the_artifact(tmp_path):
    settings = replace(SMALL, lexicon_weight=0.5)
    texts = ["ужасный сервис", "хороший банк", "банк открыл офис", "плохой интернет", "хороший тариф"] * 4
    labels = ["negative", "positive", "neutral", "negative", "positive"] * 4
    rows = Rows(texts, labels, [[] for _ in texts], np.ones(len(texts), dtype=np.float32))
    engine = fit_engine(rows, settings, ratings=RATINGS)
    save_model(tmp_path, engine.coef_t.T, engine.intercept, engine.classes, settings, {}, engine.lexicon)
    loaded = load_model(tmp_path)
    assert loaded.lexicon == pytest.approx(RATINGS)
    probe = ["ужасный тариф", "хороший сервис"]
    assert loaded.predict_proba(probe) == pytest.approx(engine.predict_proba(probe), abs=1e-3)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as arrays:
        assert arrays["lexicon_words"].dtype.kind == "U"


def test_artifact_of_format_1_still_loads(tmp_path):
    engine = load_model()
    save_model(
        tmp_path, engine.coef_t.T, engine.intercept, engine.classes, engine.settings, {}, engine.lexicon
    )
    metadata = (tmp_path / "metadata.json").read_text(encoding="utf-8")
    assert '"format": 2' in metadata
    (tmp_path / "metadata.json").write_text(metadata.replace('"format": 2', '"format": 1'), encoding="utf-8")
    assert load_model(tmp_path).predict(["ужасный сервис"])[0][0] in {"negative", "neutral", "positive"}


def test_artifact_of_an_unknown_format_is_refused_with_the_file_named(tmp_path):
    engine = load_model()
    save_model(
        tmp_path, engine.coef_t.T, engine.intercept, engine.classes, engine.settings, {}, engine.lexicon
    )
    meta = tmp_path / "metadata.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"format": 2', '"format": 99'), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="metadata.json: artifact format 99"):
        load_model(tmp_path)


# --- dataset readers ----------------------------------------------------------------------------


def test_missing_dataset_file_is_named(tmp_path):
    (tmp_path / "sentirueval2015").mkdir()
    with pytest.raises(DatasetsMissing, match=r"banks_train\.csv: file not found"):
        load_sentirueval(tmp_path, "banks", "train")


def test_dataset_file_without_a_needed_column_is_named(tmp_path):
    (tmp_path / "sentirueval2015").mkdir()
    (tmp_path / "sentirueval2015" / "banks_test.csv").write_text("id,text,label\n1,hi,neutral\n")
    with pytest.raises(DatasetError, match=r"banks_test\.csv: missing column\(s\) entity, date"):
        load_sentirueval(tmp_path, "banks", "test")


def test_lexicon_file_with_unreadable_ratings_is_named(tmp_path):
    (tmp_path / "linis").mkdir()
    (tmp_path / "linis" / "word_ratings.csv").write_text('"Words";"mean"\n"плохой";"n/a"\n')
    with pytest.raises(DatasetError, match=r"word_ratings\.csv: column mean has no numbers"):
        load_linis(tmp_path)


def test_cedr_file_with_a_bad_labels_cell_is_named(tmp_path):
    (tmp_path / "cedr").mkdir()
    (tmp_path / "cedr" / "train.csv").write_text('text,labels,source\n"текст","[oops",lj\n')
    with pytest.raises(DatasetError, match=r"train\.csv: labels"):
        extra_rows(tmp_path, "cedr", 1.0)


def test_copies_of_one_text_share_one_unit_of_weight():
    frame = pd.DataFrame({
        "text": ["санкции против ВТБ и Сбербанка"] * 2 + ["другой текст"],
        "entity": ["vtb", "sberbank", "vtb"],
        "label": ["negative", "negative", "neutral"],
    })  # fmt: skip
    assert sentirueval_rows(frame).weights.tolist() == [1.0, 1.0, 1.0]
    assert sentirueval_rows(frame, share_duplicates=True).weights.tolist() == [0.5, 0.5, 1.0]


def test_linis_lexicon_reads_rated_words(shared_root):
    ratings = lexicon(shared_root, min_abs=1.0)
    assert len(ratings) > 1000
    assert all(abs(r) >= 1.0 for r in ratings.values())
    assert not any("ё" in w for w in ratings)


def test_model_with_lexicon_trained_on_a_small_sample_beats_chance(shared_root):
    frame = load_sentirueval(shared_root, "banks", "train").sample(n=2_500, random_state=1)
    rows = sentirueval_rows(frame, share_duplicates=True)
    index = np.arange(len(rows))
    train_rows, held_rows = rows.take(index[:2_000]), rows.take(index[2_000:])
    settings = replace(SMALL, char_features=2**16, word_features=2**14, lexicon_weight=0.5)
    engine = fit_engine(train_rows, settings, class_weight="balanced", ratings=lexicon(shared_root))
    predicted = [label for label, _ in engine.predict(held_rows.texts)]
    # The majority class alone scores < 0.25 F1pn.
    assert macro_f1_pn(held_rows.labels, predicted) > 0.4


def test_training_without_datasets_fails_in_one_line_naming_where_it_looked(tmp_path, monkeypatch, capsys):
    from sentiment.train_offline import main

    monkeypatch.setenv("BRANDPULSE_DATASETS", str(tmp_path / "nowhere"))
    assert main(["--output", str(tmp_path / "model")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: shared datasets not found") and str(tmp_path / "nowhere") in error
    assert "\n" not in error
    assert not (tmp_path / "model").exists()
