"""Batches of token-id sequences for torch models: similar lengths together, padded with a mask.

Short posts and long reviews arrive mixed; sorting by length before batching wastes little compute
on padding. Shared by the transformers engine, the hybrid engine's encoder and distillation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def length_sorted_batches(sequences: Sequence[Sequence[int]], size: int) -> list[list[int]]:
    """Indices of `sequences`, shortest first, in batches of `size`; every index exactly once."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    return [order[start : start + size] for start in range(0, len(order), size)]


def pad(sequences: Sequence[Sequence[int]], pad_id: int, left: bool = False) -> tuple[Any, Any]:
    """(input_ids, attention_mask) as long tensors, padded to the longest sequence."""
    import torch

    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        span = slice(width - len(ids), width) if left else slice(0, len(ids))
        input_ids[row, span] = torch.tensor(list(ids), dtype=torch.long)
        attention_mask[row, span] = 1
    return input_ids, attention_mask
