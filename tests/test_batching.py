"""Length-sorted batches and padding shared by the torch-based sentiment engines."""

from __future__ import annotations

from sentiment.batching import length_sorted_batches, pad


def test_batches_are_shortest_first_and_cover_every_index_once():
    sequences = [[1, 2, 3], [1], [1, 2], [1, 2, 3, 4], [5]]
    batches = length_sorted_batches(sequences, 2)
    assert batches == [[1, 4], [2, 0], [3]]
    assert length_sorted_batches([], 8) == []


def test_pad_right_and_left_with_a_mask():
    ids, mask = pad([[7, 8, 9], [4]], pad_id=0)
    assert ids.tolist() == [[7, 8, 9], [4, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = pad([[7, 8, 9], [4]], pad_id=0, left=True)
    assert ids.tolist() == [[7, 8, 9], [0, 0, 4]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
