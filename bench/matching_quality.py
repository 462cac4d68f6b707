"""Brand matching precision and recall on the labelled posts in bench/matching_eval*/.

Two sets, each with the brand rules a user would write (brands.yaml), scored three ways: names
alone (`--without-rules` of `brandpulse match-eval`), the rules, and the rules with the learned
brand-or-word decision (monitor/brand_sense.py). The decision is trained the way `brandpulse
match-train` trains it on collected items: on the set's own texts, labels never read.

- bench/matching_eval/: twelve brands that are also ordinary words;
  posts.csv even ids (the rules were tuned there), odd ids (held out), posts_fresh.csv (blind);
- bench/matching_eval_2/: 24 brands (banks, operators, shops, marketplaces, delivery), 959 posts
  written blind, each tagged with the kind of writing it tests (kinds.csv): `--per-kind`.

Example:
    python -m bench.matching_quality
    python -m bench.matching_quality --per-brand --per-kind
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path; put the repository root there.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import csv  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from monitor.brand_sense import SenseModel  # noqa: E402
from monitor.config import BrandConfig, load_config  # noqa: E402
from monitor.match_eval import (  # noqa: E402
    LabelledPost,
    MatchEvaluation,
    evaluate_matching,
    read_labelled,
    without_rules,
)
from monitor.matching import BrandMatcher  # noqa: E402
from monitor.sense_training import train_sense  # noqa: E402

FIRST = _HERE / "matching_eval"
SECOND = _HERE / "matching_eval_2"


def first_set(names: list[str]) -> list[tuple[str, list[LabelledPost]]]:
    posts = read_labelled(FIRST / "posts.csv", names)
    # Split by the id column (m001...), which the tuning used; the rows are shuffled.
    ids = _ids(FIRST / "posts.csv")
    found = [
        ("1: posts.csv even ids (rules tuned here)", [p for p in posts if ids[p.row] % 2 == 0]),
        ("1: posts.csv odd ids (held out)", [p for p in posts if ids[p.row] % 2 == 1]),
    ]
    fresh = FIRST / "posts_fresh.csv"
    if fresh.exists():
        found.append(("1: posts_fresh.csv (written blind, afterwards)", read_labelled(fresh, names)))
    return found


def _ids(path: Path) -> dict[int, int]:
    """Row number (as read_labelled numbers rows) -> the number in the row's id."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        return {row: int(record["id"].lstrip("mf")) for row, record in enumerate(csv.DictReader(source), 2)}


def _kinds(path: Path) -> dict[int, str]:
    """Row number of posts.csv -> the kind of writing the row was written to test."""
    with (path.parent / "kinds.csv").open(encoding="utf-8") as source:
        kind_of = {row["id"]: row["kind"] for row in csv.DictReader(source)}
    with path.open(encoding="utf-8-sig", newline="") as source:
        return {row: kind_of[record["id"]] for row, record in enumerate(csv.DictReader(source), 2)}


def learned(brands: list[BrandConfig], posts: list[LabelledPost]) -> SenseModel:
    report = train_sense(BrandMatcher.from_config(brands), [post.text for post in posts])
    assert report.model is not None
    return report.model


def per_kind(
    brands: list[BrandConfig], posts: list[LabelledPost], kinds: dict[int, str], sense: SenseModel | None
) -> None:
    matcher = BrandMatcher.from_config(brands, sense)
    right, false, missed = Counter[str](), Counter[str](), Counter[str]()
    for post in posts:
        found = {match.brand for match in matcher.find(post.text)}
        kind = kinds[post.row]
        right[kind] += len(found & post.brands)
        false[kind] += len(found - post.brands)
        missed[kind] += len(post.brands - found)
    for kind in sorted(set(kinds.values())):
        hits = right[kind] + missed[kind]
        recall = f"{right[kind] / hits:7.3f}" if hits else f"{'—':>7}"
        counts = f"found {right[kind]:>4}  missed {missed[kind]:>4}  false hits {false[kind]:>4}"
        print(f"    {kind:<42}{counts}  R{recall}")


def _model_line(evaluation: MatchEvaluation, seconds: float) -> str:
    judged, kept = evaluation.model_decisions, evaluation.model_mentions
    return f"   model judged {judged} hits, kept {kept}; {evaluation.posts / seconds:,.0f} texts/s in all"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_quality", description=__doc__)
    parser.add_argument("--per-brand", action="store_true", help="also print every brand's scores")
    parser.add_argument("--per-kind", action="store_true", help="set 2: found / missed / false hits per kind")
    args = parser.parse_args(argv)
    print(f"{'set':<48}{'how':<8}{'posts':>6}{'labelled':>9}{'P':>7}{'R':>7}{'F1':>7}")
    for folder, make_sets in ((FIRST, first_set), (SECOND, None)):
        if not (folder / "brands.yaml").exists():
            continue
        brands = load_config(folder / "brands.yaml").brands
        names = [brand.name for brand in brands]
        if make_sets is None:
            posts = read_labelled(folder / "posts.csv", names)
            sets = [("2: posts.csv (24 brands, written blind)", posts)]
            every_text = posts
        else:
            sets = make_sets(names)
            every_text = [post for _, subset in sets for post in subset]
        started = time.perf_counter()
        sense = learned(brands, every_text)
        trained_in = time.perf_counter() - started
        for title, subset in sets:
            for how, configured, model in (
                ("names", without_rules(brands), None),
                ("rules", brands, None),
                ("+model", brands, sense),
            ):
                started = time.perf_counter()
                evaluation = evaluate_matching(configured, subset, model)
                seconds = time.perf_counter() - started
                total = evaluation.total
                print(
                    f"{title:<48}{how:<8}{len(subset):>6}{total.labelled:>9}"
                    f"{total.precision:>7.3f}{total.recall:>7.3f}{total.f1:>7.3f}"
                    + (_model_line(evaluation, seconds) if model else "")
                )
                if args.per_brand and how == "rules":
                    for score in evaluation.scores:
                        print(
                            f"    {score.brand:<44}{'':<8}{'':>6}{score.labelled:>9}"
                            f"{score.precision:>7.3f}{score.recall:>7.3f}{score.f1:>7.3f}"
                        )
                if args.per_kind and make_sets is None and how != "names":
                    per_kind(configured, subset, _kinds(folder / "posts.csv"), model)
        trained = f"{len(sense.brands)} brands trained on {len(every_text)} texts in {trained_in:.1f} s"
        print(f"    learned decision: {trained}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
