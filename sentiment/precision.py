"""Which number format the e5 encoder computes in on this CPU.

bfloat16 keeps float32's range with a shorter mantissa; on CPUs that compute it natively (AVX-512
BF16, AMX) the encoder runs ~1.6x faster, and on the dev sets the labels hardly move (see
BENCHMARKS.md). On other CPUs torch emulates it, which is slower than float32, so "auto" asks.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Literal

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")

log = logging.getLogger(__name__)


def native_bf16() -> bool:
    """True when oneDNN computes bfloat16 in hardware here."""
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # an older or unusual torch build: stay exact
        return False


def resolve(precision: str) -> Literal["fp32", "bf16"]:
    """ "auto" -> bf16 where the CPU has it, fp32 elsewhere; an explicit choice is kept."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    if precision == "bf16" and not native_bf16():
        log.warning("sentiment.precision is bf16 but this CPU has no native bfloat16: it will be slow")
    return "bf16" if precision == "bf16" else "fp32"


@contextlib.contextmanager
def computing_in(precision: Literal["fp32", "bf16"]) -> Iterator[None]:
    """Matrix products inside run in `precision`; outputs that leave are float32 again."""
    if precision == "fp32":
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield
