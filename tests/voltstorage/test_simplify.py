"""Line simplification against textbook implementations: Ramer-Douglas-Peucker (vertical
distance) keeps exactly the points the recursive algorithm keeps; Largest-Triangle-Three-
Buckets chooses the points the sequential algorithm chooses, also when a bucket arrives in
pieces."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltstorage.simplify import LTTBChooser, rdp_keep, rdp_keep_series


def rdp_reference(t, v, epsilon) -> set[int]:
    """The recursive algorithm: split at the first point farthest from the chord."""
    kept = {0, len(t) - 1}

    def split(first, last):
        if last - first < 2:
            return
        best, where = -1.0, None
        for i in range(first + 1, last):
            chord = v[first] + (v[last] - v[first]) * (t[i] - t[first]) / (t[last] - t[first])
            distance = abs(v[i] - chord)
            if distance > best:
                best, where = distance, i
        if best > epsilon:
            kept.add(where)
            split(first, where)
            split(where, last)

    split(0, len(t) - 1)
    return kept


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), min_size=1, max_size=120
    ),
    epsilon=st.floats(min_value=0, max_value=5e3),
    steps=st.lists(st.integers(min_value=1, max_value=5000), min_size=120, max_size=120),
)
def test_rdp_keeps_what_the_recursive_algorithm_keeps(values, epsilon, steps):
    t = np.cumsum(np.array(steps[: len(values)], dtype=np.int64))
    v = np.array(values)
    keep = rdp_keep(t, v, epsilon)
    assert set(np.flatnonzero(keep).tolist()) == (
        rdp_reference(t.astype(float), v, epsilon) if len(v) > 1 else {0}
    )


def test_rdp_of_a_line_keeps_its_ends_and_of_a_corner_the_corner():
    t = np.arange(10, dtype=np.int64)
    assert np.flatnonzero(rdp_keep(t, 2.0 * t, 0.0)).tolist() == [0, 9]
    corner = np.r_[np.zeros(5), np.arange(1, 6, dtype=float)]
    assert np.flatnonzero(rdp_keep(t, corner, 0.1)).tolist() == [0, 4, 9]


def lttb_reference(t, v, bucket_of, count):
    """Sequential LTTB over buckets of equal time with known next-bucket means."""
    buckets: dict[int, list[int]] = {}
    for i, time in enumerate(t):
        buckets.setdefault(bucket_of(time), []).append(i)
    order = sorted(buckets)
    chosen = []
    anchor = None
    for position, number in enumerate(order):
        members = buckets[number]
        if anchor is None:
            pick = members[0]
        elif position + 1 == len(order):
            pick = members[-1]
        else:
            following = buckets[order[position + 1]]
            bt = sum(t[i] for i in following) / len(following)
            bv = sum(v[i] for i in following) / len(following)
            at, av = anchor
            areas = [abs((at - bt) * (v[i] - av) - (at - t[i]) * (bv - av)) for i in members]
            pick = members[int(np.argmax(areas))]
        chosen.append((int(t[pick]), float(v[pick])))
        anchor = (float(t[pick]), float(v[pick]))
    return chosen


@pytest.mark.parametrize("pieces", [1, 3, 17])
def test_lttb_chooses_what_the_sequential_algorithm_chooses(pieces):
    rng = np.random.default_rng(pieces)
    t = np.sort(rng.choice(100_000, 2000, replace=False)).astype(np.int64)
    v = np.cumsum(rng.normal(size=2000))
    count = 50

    def bucket_of(time):
        return min(int(time) * count // 100_000, count - 1)

    buckets = np.array([bucket_of(time) for time in t])
    means = {}
    filled = sorted(set(buckets.tolist()))
    for current, following in itertools.pairwise(filled):
        members = buckets == following
        means[current] = (t[members].mean(), v[members].mean())
    chooser = LTTBChooser(means)
    for part in np.array_split(np.arange(len(t)), pieces):
        chooser.feed(t[part], v[part], buckets[part])
    assert chooser.finish() == lttb_reference(t, v, bucket_of, count)


def test_several_series_at_once_keep_what_each_keeps_alone():
    rng = np.random.default_rng(5)
    lengths = [1, 2, 50, 400, 3]
    series = [
        (np.cumsum(rng.integers(1, 100, n)), np.cumsum(rng.normal(size=n)), eps)
        for n, eps in zip(lengths, [0.1, 0.5, 1.0, 0.2, 3.0], strict=True)
    ]
    t = np.concatenate([s[0] for s in series])
    v = np.concatenate([s[1] for s in series])
    offsets = np.cumsum([0, *lengths])
    together = rdp_keep_series(
        t, v, offsets[:-1], offsets[1:] - 1, np.array([s[2] for s in series])
    )
    alone = np.concatenate([rdp_keep(*s) for s in series])
    assert together.tolist() == alone.tolist()
