"""Speed, memory and accuracy of the e5 engine's inference variants on the SentiRuEval dev sets.

fp32 and bf16 (torch; bf16 only where the CPU computes it natively), dynamic int8 on the Linear
layers (torch), and ONNX Runtime fp32 (when onnxruntime is installed): texts/s with batches of
similar length, peak RSS of a fresh process (load included), and F1pn / negative F1 per domain, so
a faster variant is chosen only if it keeps the scores.

    python -m bench.sentiment_speed --threads 2
    python -m bench.sentiment_speed --model data/e5-run --rows 1000 --variants fp32,bf16
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

VARIANTS = ("fp32", "bf16", "int8", "onnx")


def onnx_logits(
    engine: Any, sequences: list[list[int]], threads: int, batch_size: int = 64
) -> tuple[np.ndarray, float]:
    """The engine's model exported to ONNX and run by ONNX Runtime on the same batches (the export,
    a one-time cost, is timed apart)."""
    import onnxruntime
    import torch

    from sentiment.batching import length_sorted_batches, pad

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e5.onnx"
        ids, mask = pad(sequences[:2], engine.pad_id)
        axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
        torch.onnx.export(
            engine.model,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = np.zeros((len(sequences), 3), dtype=np.float32)
    started = time.perf_counter()
    for index in length_sorted_batches(sequences, batch_size):
        ids, mask = pad([sequences[i] for i in index], engine.pad_id)
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        out[index] = session.run(None, feed)[0]
    return out, time.perf_counter() - started


def measure(variant: str, model: str | None, threads: int, rows: int | None) -> dict[str, Any]:
    from sentiment import LABELS
    from sentiment.datasets import datasets_dir
    from sentiment.e5_engine import E5BrandEngine, encode
    from sentiment.hybrid import mix
    from sentiment.offline import softmax
    from sentiment.train_e5 import dev_split, scores

    loaded_at = time.perf_counter()
    precision = "bf16" if variant == "bf16" else "fp32"
    engine = E5BrandEngine(model, threads=threads, quantize=variant == "int8", precision=precision)
    load_seconds = time.perf_counter() - loaded_at
    dev = dev_split(datasets_dir(), rows)
    engine.predict_proba(dev.texts[:64], brand=dev.brands[:64])  # warm-up
    if variant == "onnx":
        # Same tokenizing and offline mix as the engine, ONNX Runtime in place of torch; the export
        # (a one-time cost) is not timed.
        started = time.perf_counter()
        sequences = encode(engine.tokenizer, dev.texts, dev.brands, engine.max_length)
        tokenizing = time.perf_counter() - started
        logits, inference = onnx_logits(engine, sequences, threads)
        started = time.perf_counter()
        probabilities = softmax(logits)
        if engine.offline is not None:
            probabilities = mix(probabilities, engine.offline_probabilities(dev.texts, dev.brands))
        seconds = tokenizing + inference + time.perf_counter() - started
    else:
        started = time.perf_counter()
        probabilities = engine.predict_proba(dev.texts, brand=dev.brands)
        seconds = time.perf_counter() - started
    logits = probabilities
    result = scores(dev, [LABELS[i] for i in logits.argmax(1)])
    return {
        "variant": variant,
        "threads": threads,
        "rows": len(dev.texts),
        "texts_per_second": round(len(dev.texts) / seconds, 1),
        "load_seconds": round(load_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **{f"{d}_f1pn": result[d]["f1pn"] for d in ("banks", "telecoms")},
        **{f"{d}_negative_f1": result[d]["negative_f1"] for d in ("banks", "telecoms")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sentiment_speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", help="e5 artifact folder (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, help="only the first N rows of each dev set")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)

    from sentiment.datasets import DatasetsMissing, datasets_dir

    try:
        datasets_dir()
    except DatasetsMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    if args.one:
        print(json.dumps(measure(args.one, args.model, args.threads, args.rows)))
        return 0
    print(f"{'variant':<8}{'texts/s':>9}{'load s':>8}{'RSS MB':>8}{'banks':>8}{'telecom':>9}{'neg b/t':>14}")
    for variant in args.variants.split(","):
        if variant == "onnx":
            try:
                import onnxruntime  # noqa: F401
            except ImportError:
                print("onnx    skipped: pip install onnxruntime onnx")
                continue
        if variant == "bf16":
            from sentiment.precision import native_bf16

            if not native_bf16():
                print("bf16    skipped: this CPU has no native bfloat16 (torch would emulate it)")
                continue
        # A fresh process per variant: its peak memory is its own.
        command = [
            sys.executable,
            "-m",
            "bench.sentiment_speed",
            "--one",
            variant,
            "--threads",
            str(args.threads),
        ]
        command += ["--model", args.model] if args.model else []
        command += ["--rows", str(args.rows)] if args.rows else []
        done = subprocess.run(command, capture_output=True, text=True, cwd=_HERE.parent, check=False)
        if done.returncode != 0:
            print(f"{variant:<8}failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{variant:<8}{r['texts_per_second']:>9.1f}{r['load_seconds']:>8.1f}{r['peak_rss_mb']:>8}"
            f"{r['banks_f1pn']:>8.4f}{r['telecoms_f1pn']:>9.4f}"
            f"{r['banks_negative_f1']:>7.3f}/{r['telecoms_negative_f1']:.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
