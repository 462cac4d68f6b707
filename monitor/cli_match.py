"""`brandpulse match-eval`: precision and recall of the configured brands on labelled posts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli_database import DatabaseOption
from monitor.config import load_config
from monitor.match_eval import BrandScore, evaluate_matching, read_labelled, without_rules

SNIPPET_CHARS = 100


def match_eval(
    input: Annotated[
        Path,
        typer.Option("--input", "-i", help="CSV: 'text' and 'brands' (names joined by ';'; empty = none)."),
    ],
    config: Annotated[
        Path,
        typer.Option("--config", "-c", envvar="BRANDPULSE_CONFIG", help="The spiders.yaml to use."),
    ] = Path("spiders.yaml"),
    errors: Annotated[int, typer.Option("--errors", help="List up to this many false hits and misses.")] = 20,
    no_rules: Annotated[
        bool,
        typer.Option("--without-rules", help="Drop exclude, context, category and query: what rules buy."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per brand, no mistakes listed.")
    ] = False,
    no_model: Annotated[
        bool,
        typer.Option("--without-model", help="Ignore matching.model: the rules alone decide every hit."),
    ] = False,
) -> None:
    """How well the configured brands are found: per brand, precision (hits that are right) and
    recall (labelled mentions found), then the mistakes, so exclusions and context words can be tuned.

    Example: brandpulse match-eval --config spiders.yaml --input labelled.csv --errors 50
    """
    import json

    loaded = load_config(config)
    brands = loaded.brands
    if no_rules:
        brands = without_rules(brands)
    sense = None if no_model or no_rules else loaded.sense_model()
    posts = read_labelled(input, [brand.name for brand in brands])
    evaluation = evaluate_matching(brands, posts, sense)
    rows = [_score_row(score) for score in [*evaluation.scores, evaluation.total]]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from monitor.cli import Fmt, emit

    typer.echo(f"{evaluation.posts} labelled posts, {input}")
    emit(rows, Fmt.table)
    if sense is not None:
        typer.echo(
            f"learned brand-or-word decision ({sense.path}): {evaluation.model_decisions} hits judged, "
            f"{evaluation.model_mentions} made mentions"
        )
    shown = evaluation.errors[: max(errors, 0)]
    if shown:
        typer.echo(f"\n{len(evaluation.errors)} mistakes; the first {len(shown)}:")
    for mistake in shown:
        snippet = " ".join(mistake.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1] + "…"
        note = f"  [{mistake.model}]" if mistake.model else ""
        typer.echo(f"  row {mistake.row}: {mistake.kind} {mistake.brand}: {snippet}{note}")


def _score_row(score: BrandScore) -> dict[str, Any]:
    return {
        "brand": score.brand,
        "labelled": score.labelled,
        "found_right": score.true_hits,
        "false_hits": score.false_hits,
        "misses": score.misses,
        "precision": round(score.precision, 3),
        "recall": round(score.recall, 3),
        "f1": round(score.f1, 3),
    }


def match_train(
    output: Annotated[Path, typer.Option("--output", "-o", help="The model file to write (JSON).")],
    config: Annotated[
        Path,
        typer.Option("--config", "-c", envvar="BRANDPULSE_CONFIG", help="The spiders.yaml to use."),
    ] = Path("spiders.yaml"),
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="Learn from this CSV's 'text' column instead of the database."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Train the learned brand-or-word decision for ordinary-word brands (Магнит, Лента, Мир) from
    the collected items and the staff's answers («Не релевантно», taken in work); no labelling.
    Set `matching.model` to the file to use it, and compare with `match-eval --without-model`.

    Example: brandpulse match-train --output models/brand-sense.json
    """
    from monitor.cli_database import chosen_url, open_existing
    from monitor.db.session import session_factory
    from monitor.matching import BrandMatcher
    from monitor.sense_training import csv_texts, database_texts, staff_examples, train_sense

    loaded = load_config(config)
    matcher = BrandMatcher.from_config(loaded.brands)
    if input is not None:
        report = train_sense(matcher, csv_texts(input))
    else:
        url = chosen_url(database, loaded.storage.url)
        with session_factory(open_existing(url))() as session:
            report = train_sense(matcher, database_texts(session), staff_examples(session, matcher))
    assert report.model is not None
    output.parent.mkdir(parents=True, exist_ok=True)
    report.model.save(output)
    ordinary = [b.name for b in loaded.brands if b.context or b.category]
    left = set(report.brands_left_to_rules(ordinary))
    for brand in ordinary:
        counts = {why: n for (name, why), n in sorted(report.examples.items()) if name == brand}
        state = "too few examples: the rules decide" if brand in left else "trained"
        typer.echo(f"{brand}: {state}; examples {counts or 'none'}", err=True)
    typer.echo(f"{report.texts} texts read; {len(report.model.brands)} brands → {output}", err=True)
