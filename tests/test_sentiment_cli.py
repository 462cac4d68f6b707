"""`brandpulse sentiment predict / eval / train` as a user runs them, on tiny models built here."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import SentimentConfig
from monitor.db.models import Sentiment
from monitor.db.session import open_database, session_factory
from sentiment import LABELS, ModelLoadError, load_engine
from sentiment.corrections import Correction, split_corrections
from sentiment.offline import load_model
from sentiment.scoring import resolve_model
from sentiment.training import labelled_rows, save_offline_engine, train_offline_engine
from tests.support.seed import Post, seed

runner = CliRunner()

# A toy language: each label has its own words, filler words carry none. Held-out rows combine
# the words differently from the training rows, so a model must generalise over words to pass.
WORDS = {
    "negative": ["ужасно", "отвратительно", "кошмар", "бесит", "обман", "хамство", "позор", "жалоба"],
    "neutral": ["отделение", "график", "адрес", "открылся", "новости", "тариф", "сегодня", "офис"],
    "positive": ["отлично", "спасибо", "прекрасно", "супер", "рекомендую", "доволен", "лучший", "вежливо"],
}
# Slang the base data never has: what staff corrections teach a model.
SLANG = {"negative": ["треш", "зашквар", "днище", "фейл"], "positive": ["огонь", "топчик", "кайф", "имба"]}
FILLER = ["банк", "карта", "связь", "поддержка", "оператор", "приложение", "кредит", "магазин"]


def toy_rows(n: int, seed: int, words: dict[str, list[str]] = WORDS) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        label = rng.choice(sorted(words))
        text = (
            f"{rng.choice(FILLER)} {rng.choice(words[label])} {rng.choice(FILLER)} {rng.choice(words[label])}"
        )
        rows.append((text, label))
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]] | list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An offline model trained on the toy language: it knows WORDS, not SLANG."""
    rows = toy_rows(150, seed=1)
    engine = train_offline_engine(labelled_rows([t for t, _ in rows], [lab for _, lab in rows], [None] * 150))
    directory = tmp_path_factory.mktemp("toy-model")
    save_offline_engine(engine, directory, {"version": "toy"})
    return directory


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, ["sentiment", *args], input=input)


# --- help and model names ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["predict", "eval", "train", "convert-e5"])
def test_every_sentiment_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_model_names_resolve_to_offline_or_transformers(toy_model, tmp_path):
    base = SentimentConfig(batch_size=7)
    assert resolve_model(None, base) is base
    assert resolve_model("offline", base).model_dump() == {
        **base.model_dump(),
        "engine": "offline",
        "model": None,
    }
    assert resolve_model(str(toy_model), base).engine == "offline"
    hub = resolve_model("someone/rubert-sentiment", base)
    assert (hub.engine, hub.model, hub.batch_size) == ("transformers", "someone/rubert-sentiment", 7)
    with pytest.raises(ModelLoadError, match="neither an offline model"):
        resolve_model(str(tmp_path), base)


def test_hybrid_resolves_by_name_or_by_its_folder(tmp_path):
    from sentiment.scoring import describe_model

    base = SentimentConfig(threads=1)
    shipped = resolve_model("hybrid", base)
    assert (shipped.engine, shipped.model, shipped.threads) == ("hybrid", None, 1)
    assert describe_model(shipped) == "hybrid (shipped)"
    (tmp_path / "head.npz").write_bytes(b"")
    ours = resolve_model(str(tmp_path), base)
    assert (ours.engine, ours.model) == ("hybrid", str(tmp_path))
    assert describe_model(ours) == f"hybrid ({tmp_path})"


# --- predict -------------------------------------------------------------------------------------


def test_predict_keeps_the_input_columns_and_order_and_adds_label_and_score(toy_model, tmp_path):
    rows = [
        ("7", "кредит ужасно банк кошмар", "Сбербанк", "x"),
        ("3", "спасибо, всё отлично", "", "y"),
        ("5", "офис открылся сегодня", "ВТБ", ""),
        ("1", "", "", "z"),
    ]
    source = write_csv(tmp_path / "in.csv", ["id", "text", "brand", "note"], rows)
    out = tmp_path / "out.csv"
    result = invoke("predict", "--input", str(source), "--output", str(out), "--model", str(toy_model))
    assert result.exit_code == 0, result.output
    assert "4 rows labelled" in result.stderr
    written = read_csv(out)
    assert list(written[0]) == ["id", "text", "brand", "note", "label", "score"]
    assert [(r["id"], r["text"], r["brand"], r["note"]) for r in written] == rows
    assert [r["label"] for r in written[:3]] == ["negative", "positive", "neutral"]
    engine = load_model(toy_model)
    for row in written:
        assert 0 < float(row["score"]) <= 1
        brand = row["brand"] or None
        expected_label, expected_score = engine.predict([row["text"]], brand=brand)[0]
        assert (row["label"], float(row["score"])) == (
            expected_label,
            pytest.approx(expected_score, abs=1e-4),
        )


def test_predict_reads_stdin_and_writes_stdout_with_a_dash(toy_model):
    result = invoke("predict", "--input", "-", "--output", "-", "--model", str(toy_model),
                    input="text\nужасно кошмар\nотлично спасибо\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["text"], r["label"]) for r in rows] == [
        ("ужасно кошмар", "negative"),
        ("отлично спасибо", "positive"),
    ]


def test_predict_keeps_an_input_label_column_as_input_label(toy_model, tmp_path):
    source = write_csv(tmp_path / "in.csv", ["text", "label"], [("ужасно кошмар", "positive")])
    out = tmp_path / "out.csv"
    assert invoke("predict", "-i", str(source), "-o", str(out), "-m", str(toy_model)).exit_code == 0
    written = read_csv(out)
    assert list(written[0]) == ["text", "input_label", "label", "score"]
    assert (written[0]["input_label"], written[0]["label"]) == ("positive", "negative")


def test_predict_without_a_text_column_names_the_file_and_what_was_expected(tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "body"], [("1", "привет")])
    result = invoke("predict", "--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"Error: {source}: no 'text' column (found: id, body); expected a CSV with a header"
    )
    assert not (tmp_path / "out.csv").exists()


def test_predict_on_a_missing_file_is_one_line_without_traceback(tmp_path):
    missing = tmp_path / "nope.csv"
    result = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", "sentiment", "predict",
         "--input", str(missing), "--model", "offline"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"Error: {missing}: cannot read: No such file or directory; expected a CSV file"
    )


# --- eval ----------------------------------------------------------------------------------------


def test_eval_prints_the_scores_computed_by_hand(toy_model, tmp_path):
    # The toy model labels these by their words: negative, neutral, positive, positive, neutral.
    texts = ["ужасно кошмар", "офис адрес", "отлично спасибо", "супер прекрасно", "тариф сегодня"]
    assert [label for label, _ in load_model(toy_model).predict(texts)] == [
        "negative", "neutral", "positive", "positive", "neutral"
    ]  # fmt: skip
    # Aliases of: negative, negative, positive, neutral, neutral.
    gold = ["neg", "-1", "positive", "0", "NEUTRAL"]
    source = write_csv(tmp_path / "gold.csv", ["text", "label"], list(zip(texts, gold, strict=True)))
    result = invoke("eval", "--input", str(source), "--model", str(toy_model), "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    # negative: P 1/1, R 1/2, F1 2/3; positive: P 1/2, R 1/1, F1 2/3; neutral: P 1/2, R 1/2, F1 1/2.
    assert scores["rows"] == 5
    assert scores["f1_pn"] == pytest.approx(0.6667)
    assert scores["accuracy"] == pytest.approx(0.6)
    assert scores["classes"]["negative"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert scores["classes"]["neutral"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert scores["classes"]["positive"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert scores["confusion"] == {"labels": list(LABELS), "matrix": [[1, 1, 0], [0, 1, 1], [0, 0, 1]]}

    text = invoke("eval", "--input", str(source), "--model", str(toy_model)).stdout
    assert "macro-F1 positive+negative (SentiRuEval): 0.6667" in text
    assert "accuracy: 0.6000" in text
    assert "negative      1.0000    0.5000    0.6667         2" in text


def test_eval_names_the_line_of_a_label_it_does_not_know(tmp_path):
    source = write_csv(tmp_path / "gold.csv", ["text", "label"], [("a", "pos"), ("b", "maybe")])
    result = invoke("eval", "--input", str(source), "--model", "offline")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {source}: line 3: label 'maybe' is not negative, neutral or positive"
    )


def test_eval_without_a_label_column_says_what_it_expects(tmp_path):
    source = write_csv(tmp_path / "texts.csv", ["text"], [("a",)])
    result = invoke("eval", "--input", str(source))
    assert result.exit_code == 1
    assert "no 'label' column; expected 'text' and 'label'" in result.stderr


# --- train: offline --------------------------------------------------------------------------------


def test_train_writes_an_offline_model_that_beats_chance_on_held_out_rows(tmp_path):
    train_rows = toy_rows(90, seed=2)
    held_out = [row for row in toy_rows(200, seed=3) if row not in train_rows][:60]
    source = write_csv(tmp_path / "train.csv", ["text", "label"], train_rows)
    result = invoke("train", "--input", str(source), "--output", str(tmp_path / "model"))
    assert result.exit_code == 0, result.output
    assert "sentiment:\n    engine: offline\n    model: " in result.stderr
    engine = load_engine(SentimentConfig(engine="offline", model=str(tmp_path / "model")))
    predicted = [label for label, _ in engine.predict([t for t, _ in held_out])]
    accuracy = sum(p == g for p, (_, g) in zip(predicted, held_out, strict=True)) / len(held_out)
    assert accuracy > 0.8  # chance is 1/3


def test_train_refuses_data_with_a_single_label(tmp_path):
    source = write_csv(tmp_path / "train.csv", ["text", "label"], [("плохо", "neg"), ("ужас", "negative")])
    result = invoke("train", "--input", str(source), "--output", str(tmp_path / "model"))
    assert result.exit_code == 1
    assert "at least two different labels; the data has only negative" in result.stderr


def test_train_needs_input_or_from_corrections(tmp_path):
    result = invoke("train", "--output", str(tmp_path / "model"))
    assert result.exit_code == 2
    assert "give either --input CSV or --from-corrections" in result.output


# --- train: fine-tuning a transformers model --------------------------------------------------------


def test_train_with_base_fine_tunes_a_tiny_bert_into_a_model_load_engine_maps(tmp_path):
    from tests.test_sentiment import build_tiny_bert

    base = build_tiny_bert(tmp_path / "base", {0: "LABEL_0", 1: "LABEL_1"})  # 2 raw labels: a new head
    rows = [("ужасный сервис", "negative"), ("плохо", "negative"), ("деньги списали дважды", "negative"),
            ("спасибо за помощь", "positive"), ("отличный банк", "positive"), ("хороший сервис", "positive"),
            ("банк", "neutral"), ("the best банк ?", "neutral")]  # fmt: skip
    source = write_csv(tmp_path / "train.csv", ["text", "label"], rows)
    # One torch thread: tiny matrices on a shared machine are many times faster without thread sync.
    config = tmp_path / "spiders.yaml"
    config.write_text("brands:\n  - name: Сбербанк\nsentiment:\n  threads: 1\n", encoding="utf-8")
    out = tmp_path / "tuned"
    result = invoke("train", "--input", str(source), "--output", str(out), "--base", str(base),
                    "--config", str(config), "--epochs", "20", "--batch-size", "8",
                    "--learning-rate", "0.03")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a new 3-label head" in result.stderr
    engine = load_engine(SentimentConfig(engine="transformers", model=str(out), threads=1))  # no `labels`
    assert engine.label_of_index == {0: "negative", 1: "neutral", 2: "positive"}
    losses = json.loads((out / "brandpulse_training.json").read_text(encoding="utf-8"))["epoch_losses"]
    assert losses[-1] < losses[0] / 5
    predicted = [label for label, _ in engine.predict([t for t, _ in rows])]
    assert sum(p == g for p, (_, g) in zip(predicted, rows, strict=True)) >= 7


def test_train_with_a_base_that_is_no_model_is_one_line_error(tmp_path):
    source = write_csv(tmp_path / "train.csv", ["text", "label"], [("плохо", "neg"), ("хорошо", "pos")])
    result = invoke("train", "-i", str(source), "-o", str(tmp_path / "out"), "--base", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: cannot fine-tune {tmp_path}: no config.json in that directory"


# --- train: from staff corrections -----------------------------------------------------------------


def corrections_project(tmp_path: Path, active_model: Path, corrections: list[tuple[str, str]]) -> Path:
    """A SQLite database holding mentions of Сбербанк whose sentiment staff corrected, and its config."""
    url = f"sqlite:///{tmp_path / 'bp.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        ids = seed(session, [Post(text=text, brand="Сбербанк", label="neutral") for text, _ in corrections])
        for mention_id, (_, label) in zip(ids, corrections, strict=True):
            sentiment = session.get(Sentiment, mention_id)
            sentiment.override_label = label
            sentiment.override_by = "support-lead"
        # One mention the model scored and nobody corrected: not a correction.
        seed(session, [Post(text="Сбербанк сегодня", brand="Сбербанк", label="neutral", source="vk")])
    engine.dispose()
    config = tmp_path / "spiders.yaml"
    config.write_text(
        f"brands:\n  - name: Сбербанк\nstorage:\n  url: {url}\n"
        f"sentiment:\n  engine: offline\n  model: {active_model}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def base_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy model's training data, standing in for the shared datasets."""
    rows = toy_rows(150, seed=1)
    return write_csv(tmp_path_factory.mktemp("base") / "base.csv", ["text", "label"], rows)


def test_from_corrections_reports_before_and_after_and_writes_the_better_model(toy_model, base_csv, tmp_path):
    corrections = [(f"Сбербанк {text}", label) for text, label in toy_rows(40, seed=4, words=SLANG)]
    config = corrections_project(tmp_path, toy_model, corrections)
    out = tmp_path / "retrained"
    result = invoke("train", "--from-corrections", "--config", str(config), "--output", str(out),
                    "--base-data", str(base_csv), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["corrections"], report["trained_on"], report["held_out"]) == (40, 28, 12)
    assert report["base_rows"] == 150
    assert report["before"]["model"] == f"offline ({toy_model})"
    # The toy model never saw the slang; the retrained one learnt it from the corrections.
    assert report["after"]["f1_pn"] > report["before"]["f1_pn"] + 0.3
    assert report["accepted"] is True
    assert f"model: {out}" in result.stderr
    retrained = load_model(out)
    assert retrained.metadata["corrections_report"] == report
    assert retrained.predict(["Сбербанк зашквар днище"], brand="Сбербанк")[0][0] == "negative"


def test_from_corrections_refuses_a_model_that_scores_worse_and_writes_nothing(toy_model, base_csv, tmp_path):
    # Staff "corrections" that contradict each other: the ones the split trains on say the
    # opposite of the toy language, the held-out ones agree with it (and with the active model).
    texts = [f"Сбербанк {text}" for text, label in toy_rows(60, seed=5) if label != "neutral"][:30]
    truth = {t: ("negative" if any(w in t for w in WORDS["negative"]) else "positive") for t in texts}
    train, _ = split_corrections([Correction(i, t, "Сбербанк", truth[t], "") for i, t in enumerate(texts)])
    flipped = {c.text for c in train}
    opposite = {"negative": "positive", "positive": "negative"}
    corrections = [(t, opposite[truth[t]] if t in flipped else truth[t]) for t in texts]
    config = corrections_project(tmp_path, toy_model, corrections)
    out = tmp_path / "retrained"
    result = invoke("train", "--from-corrections", "--config", str(config), "--output", str(out),
                    "--base-data", str(base_csv))  # fmt: skip
    assert result.exit_code == 1
    assert "before" in result.stdout and "after" in result.stdout and "macro-F1 pos+neg" in result.stdout
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: the retrained model scores worse than the active one")
    assert error.endswith("nothing written, the active model stays")
    assert not out.exists()


def test_from_corrections_refuses_with_too_few_corrections(toy_model, tmp_path):
    corrections = [(f"Сбербанк {text}", label) for text, label in toy_rows(5, seed=6)]
    config = corrections_project(tmp_path, toy_model, corrections)
    result = invoke("train", "--from-corrections", "--config", str(config), "--output", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: 5 staff corrections stored; retraining needs at least 20 "
        "(correct more mentions' sentiment in the inbox first)"
    )


def test_corrections_split_is_deterministic_and_keeps_copies_of_a_text_together():
    corrections = [Correction(i, f"текст {i % 25}", "Сбербанк", "negative", "neutral") for i in range(50)]
    train, held_out = split_corrections(corrections, 0.3)
    again_train, again_held = split_corrections(list(reversed(corrections)), 0.3)
    assert {c.mention_id for c in held_out} == {c.mention_id for c in again_held}
    assert 14 <= len(held_out) <= 16 and len(train) + len(held_out) == 50
    assert not {c.text for c in train} & {c.text for c in held_out}


def test_shared_datasets_load_as_base_rows_for_retraining():
    from sentiment.train_offline import DatasetsMissing, datasets_dir
    from sentiment.training import shared_base_rows

    try:
        datasets_dir()
    except DatasetsMissing as exc:
        pytest.skip(f"needs ../shared/datasets (or BRANDPULSE_DATASETS): {exc}")
    rows = shared_base_rows()
    assert rows is not None and len(rows) > 20_000
    assert set(rows.labels) == set(LABELS)


# --- transformers settings from spiders.yaml --------------------------------------------------------


def test_transformers_engine_takes_max_length_quantize_and_threads_from_the_config(tmp_path):
    import torch

    from tests.test_sentiment import RAW_LABELS, build_tiny_bert

    model = str(build_tiny_bert(tmp_path / "bert", RAW_LABELS))
    threads = torch.get_num_threads()
    try:
        engine = load_engine(
            SentimentConfig(engine="transformers", model=model, max_length=8, quantize=True, threads=1)
        )
        assert (engine.max_length, engine.quantized, torch.get_num_threads()) == (8, True, 1)
        long_text = "ужасный сервис " * 50
        # 8 tokens: [CLS], 6 words, [SEP].
        assert engine.predict([long_text]) == engine.predict(["ужасный сервис ужасный сервис ужасный сервис"])
        # More tokens than the model has positions for (64) would crash: capped.
        capped = load_engine(
            SentimentConfig(engine="transformers", model=model, max_length=10_000, threads=1)
        )
        assert capped.max_length == 64
        assert capped.predict([long_text])[0][0] in LABELS
    finally:
        torch.set_num_threads(threads)
