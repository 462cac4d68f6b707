"""Brand matching precision and recall on the labelled posts in bench/matching_eval/.

Twelve brands that are also ordinary Russian words (bench/matching_eval/brands.yaml), scored with
their rules and with names alone (`--without-rules` of `brandpulse match-eval`), on:
- posts.csv, even ids: the half the rules were tuned on;
- posts.csv, odd ids: held out while tuning the rules (see bench/matching_eval/README.md);
- posts_fresh.csv: written afterwards by someone who saw neither the rules nor the matcher.

Example:
    python -m bench.matching_quality
    python -m bench.matching_quality --per-brand
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

from monitor.config import load_config  # noqa: E402
from monitor.match_eval import LabelledPost, evaluate_matching, read_labelled, without_rules  # noqa: E402

DATA = _HERE / "matching_eval"


def subsets(names: list[str]) -> list[tuple[str, list[LabelledPost]]]:
    posts = read_labelled(DATA / "posts.csv", names)
    # Split by the id column (m001...), which the tuning used; the rows are shuffled.
    ids = _ids(DATA / "posts.csv")
    found = [
        ("posts.csv even ids (rules tuned here)", [p for p in posts if ids[p.row] % 2 == 0]),
        ("posts.csv odd ids (held out)", [p for p in posts if ids[p.row] % 2 == 1]),
    ]
    fresh = DATA / "posts_fresh.csv"
    if fresh.exists():
        found.append(("posts_fresh.csv (written blind, afterwards)", read_labelled(fresh, names)))
    return found


def _ids(path: Path) -> dict[int, int]:
    """Row number (as read_labelled numbers rows) -> the number in the row's id."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        return {row: int(record["id"].lstrip("mf")) for row, record in enumerate(csv.DictReader(source), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_quality", description=__doc__)
    parser.add_argument("--per-brand", action="store_true", help="also print every brand's scores")
    args = parser.parse_args(argv)
    brands = load_config(DATA / "brands.yaml").brands
    names = [brand.name for brand in brands]
    print(f"{'set':<46}{'rules':<7}{'posts':>6}{'labelled':>9}{'P':>7}{'R':>7}{'F1':>7}")
    for title, posts in subsets(names):
        for rules, configured in (("names", without_rules(brands)), ("rules", brands)):
            evaluation = evaluate_matching(configured, posts)
            total = evaluation.total
            print(
                f"{title:<46}{rules:<7}{len(posts):>6}{total.labelled:>9}"
                f"{total.precision:>7.3f}{total.recall:>7.3f}{total.f1:>7.3f}"
            )
            if args.per_brand and rules == "rules":
                for score in evaluation.scores:
                    print(
                        f"    {score.brand:<42}{'':<7}{'':>6}{score.labelled:>9}"
                        f"{score.precision:>7.3f}{score.recall:>7.3f}{score.f1:>7.3f}"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
