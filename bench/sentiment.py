"""Benchmark sentiment engines on the SentiRuEval-2015 dev sets (banks_test, telecoms_test).

Prints, per engine and domain: macro-F1 over positive+negative (the official metric), negative F1
and texts/s. Skips cleanly when ../shared/datasets (or $BRANDPULSE_DATASETS) is absent.

Example:
    python -m bench.sentiment
    python -m bench.sentiment --hybrid
    python -m bench.sentiment --hybrid --vk-posts 1500   # + out-of-domain VK posts (RuSentiment)
    python -m bench.sentiment --e5 --posts                # + our labelled posts, per source type
    python -m bench.sentiment --model /path/to/hf-model \\
        --labels LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and this module would shadow
# the `sentiment` package; put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import pandas as pd  # noqa: E402

from monitor.config import SentimentConfig  # noqa: E402
from sentiment import SentimentEngine, SentimentError, load_engine  # noqa: E402
from sentiment.metrics import class_scores, macro_f1_pn  # noqa: E402

VK_POSTS = "vk-posts"
# bench/sentiment_posts/*.csv: posts per source type, labelled toward a brand by people who never
# saw the models (id, source_type, brand, text, rating, label); the item kind each is crawled as.
POSTS_DIR = _HERE / "sentiment_posts"
KIND_OF_SOURCE = {
    "vk_post": "post",
    "vk_comment": "comment",
    "telegram_post": "message",
    "forum_post": "post",
    "review": "review",
}


def labelled_posts() -> pd.DataFrame:
    frames = [pd.read_csv(path, dtype={"rating": float}) for path in sorted(POSTS_DIR.glob("*.csv"))]
    frame = pd.concat(frames, ignore_index=True)
    return frame.assign(text=frame["text"].fillna("").astype(str))


def product_texts(frame: pd.DataFrame) -> list[str]:
    """What the pipeline hands the model: the brand found by the real matcher, then the passage
    around it (sentiment/passages.py); a post where the matcher finds no brand is read whole."""
    from monitor.config import BrandConfig
    from monitor.matching import BrandMatcher
    from sentiment.passages import passage

    matchers: dict[str, BrandMatcher] = {}
    texts = []
    for text, brand, source_type in zip(frame["text"], frame["brand"], frame["source_type"], strict=True):
        matcher = matchers.setdefault(brand, BrandMatcher.from_config([BrandConfig(name=brand)]))
        found = matcher.find(text)
        start, end = (found[0].start, found[0].end) if found else (0, 0)
        texts.append(passage(text, KIND_OF_SOURCE.get(source_type, "post"), start, end))
    return texts


def bench_posts(engine: SentimentEngine) -> list[dict]:
    """Per source type: the model on the passage the pipeline reads, and for reviews the label the
    pipeline stores (the stars decide 1-2 and 4-5, sentiment/verdict.py)."""
    from sentiment.scoring import predict_rows
    from sentiment.verdict import decide

    frame = labelled_posts()
    started = time.perf_counter()
    predictions = predict_rows(engine, product_texts(frame), frame["brand"].tolist())
    seconds = time.perf_counter() - started
    frame = frame.assign(
        model=[label for label, _ in predictions],
        stored=[
            decide(label, score, None if pd.isna(r) else r).label
            for (label, score), r in zip(predictions, frame["rating"], strict=True)
        ],
    )
    rows = []
    for source_type, group in frame.groupby("source_type", sort=False):
        variants = [("model", f"{source_type}")]
        if group["rating"].notna().any():
            variants.append(("stored", f"{source_type}+stars"))
        for column, domain in variants:
            gold, predicted = group["label"].tolist(), group[column].tolist()
            rows.append({
                "engine": engine.name,
                "domain": domain,
                "rows": len(group),
                "f1_pn": round(macro_f1_pn(gold, predicted), 4),
                "f1_negative": round(class_scores(gold, predicted)["negative"].f1, 4),
                "texts_per_second": round(len(frame) / seconds, 1),
            })  # fmt: skip
    return rows


def vk_posts(root: Path, count: int) -> pd.DataFrame:
    """A fixed random sample of RuSentiment's random VK posts with a sentiment label: another domain
    than the tweets every engine trains on (none trains on RuSentiment), so a check of how it carries."""
    frame = pd.read_csv(root / "rusentiment" / "random_posts.csv")
    frame = frame[frame["label"].isin(["negative", "neutral", "positive"])].dropna(subset=["text"])
    frame = frame.sample(min(count, len(frame)), random_state=0).reset_index(drop=True)
    return frame.assign(text=frame["text"].astype(str))


def bench_engine(
    engine: SentimentEngine, root: Path, limit: int | None, use_brand: bool, vk_count: int = 0
) -> list[dict]:
    from sentiment.datasets import DOMAINS, ENTITY_TERMS, load_sentirueval

    rows = []
    for domain in [*DOMAINS, *([VK_POSTS] if vk_count else [])]:
        frame = vk_posts(root, vk_count) if domain == VK_POSTS else load_sentirueval(root, domain, "test")
        if limit:
            frame = frame.head(limit)
        predicted = [""] * len(frame)
        started = time.perf_counter()
        if use_brand and domain != VK_POSTS:
            # Brand-level data: score each tweet toward the company it is labelled for.
            for entity, group in frame.groupby("entity"):
                brand = ENTITY_TERMS.get(entity, [entity])[0]
                predictions = engine.predict(group["text"].tolist(), brand=brand)
                for i, (label, _) in zip(group.index, predictions, strict=True):
                    predicted[i] = label
        else:
            predicted = [label for label, _ in engine.predict(frame["text"].tolist())]
        seconds = time.perf_counter() - started
        gold = frame["label"].tolist()
        rows.append({
            "engine": engine.name,
            "domain": domain,
            "rows": len(frame),
            "f1_pn": round(macro_f1_pn(gold, predicted), 4),
            "f1_negative": round(class_scores(gold, predicted)["negative"].f1, 4),
            "texts_per_second": round(len(frame) / seconds, 1),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sentiment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--offline-model", help="offline artifact directory (default: the shipped model)")
    parser.add_argument("--hybrid", action="store_true", help="also bench the hybrid engine (offline + e5)")
    parser.add_argument(
        "--e5",
        nargs="?",
        const="",
        metavar="DIR",
        help="also bench the e5 engine (shipped, or the one in DIR)",
    )
    parser.add_argument("--threads", type=int, help="torch threads for e5 / hybrid (default: every core)")
    parser.add_argument(
        "--posts", action="store_true", help="also our labelled posts per source type (bench/sentiment_posts)"
    )
    parser.add_argument("--model", help="also bench a transformers model (hub id or local directory)")
    parser.add_argument(
        "--labels", default="", help="raw=ours pairs for the transformers model, comma-separated"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quantize", action="store_true", help="dynamic int8 for the transformers model")
    parser.add_argument("--limit", type=int, help="only the first N rows of each dev set")
    parser.add_argument("--no-brand", action="store_true", help="score texts without the brand")
    parser.add_argument(
        "--vk-posts", type=int, default=0, metavar="N", help="also N RuSentiment VK posts (out of domain)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args(argv)

    from sentiment.datasets import DatasetsMissing, datasets_dir

    try:
        root = datasets_dir()
    except DatasetsMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0

    engines: list[SentimentEngine] = []
    try:
        engines.append(load_engine(SentimentConfig(engine="offline", model=args.offline_model)))
        if args.hybrid:
            engines.append(load_engine(SentimentConfig(engine="hybrid", threads=args.threads)))
        if args.e5 is not None:
            engines.append(
                load_engine(SentimentConfig(engine="e5", model=args.e5 or None, threads=args.threads))
            )
        if args.model:
            from sentiment.transformers_engine import TransformersEngine

            labels = dict(pair.split("=", 1) for pair in args.labels.split(",") if pair)
            engines.append(
                TransformersEngine(
                    args.model, labels=labels, batch_size=args.batch_size, quantize=args.quantize
                )
            )
    except SentimentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    header = f"{'engine':<14}{'domain':<22}{'rows':>6}{'F1pn':>8}{'F1neg':>8}{'texts/s':>10}"
    if not args.json:
        print(header)
    for engine in engines:
        rows = bench_engine(engine, root, args.limit, not args.no_brand, args.vk_posts)
        for row in rows + (bench_posts(engine) if args.posts else []):
            if args.json:
                print(json.dumps(row))
            else:
                print(
                    f"{row['engine']:<14}{row['domain']:<22}{row['rows']:>6}{row['f1_pn']:>8.4f}"
                    f"{row['f1_negative']:>8.4f}{row['texts_per_second']:>10.0f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
