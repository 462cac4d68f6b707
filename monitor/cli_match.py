"""`brandpulse match-eval`: precision and recall of the configured brands on labelled posts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

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
        typer.Option("--without-rules", help="Drop exclude, context and query: what the rules buy you."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per brand, no mistakes listed.")
    ] = False,
) -> None:
    """How well the configured brands are found: per brand, precision (hits that are right) and
    recall (labelled mentions found), then the mistakes, so exclusions and context words can be tuned.

    Example: brandpulse match-eval --config spiders.yaml --input labelled.csv --errors 50
    """
    import json

    brands = load_config(config).brands
    if no_rules:
        brands = without_rules(brands)
    posts = read_labelled(input, [brand.name for brand in brands])
    evaluation = evaluate_matching(brands, posts)
    rows = [_score_row(score) for score in [*evaluation.scores, evaluation.total]]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from monitor.cli import Fmt, emit

    typer.echo(f"{evaluation.posts} labelled posts, {input}")
    emit(rows, Fmt.table)
    shown = evaluation.errors[: max(errors, 0)]
    if shown:
        typer.echo(f"\n{len(evaluation.errors)} mistakes; the first {len(shown)}:")
    for mistake in shown:
        snippet = " ".join(mistake.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1] + "…"
        typer.echo(f"  row {mistake.row}: {mistake.kind} {mistake.brand}: {snippet}")


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
