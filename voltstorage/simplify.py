"""Line simplification for the export, with NumPy: Ramer-Douglas-Peucker and
Largest-Triangle-Three-Buckets.

- :func:`rdp_keep` (``tolerance``; :func:`rdp_keep_series` for several series at once): the
  points of a series that Ramer-Douglas-Peucker keeps
  when no dropped point may lie farther than ``epsilon`` (in the value's unit) from the line
  between the kept points around it. The distance is vertical (in value, at the point's time):
  time and value have no common scale for a perpendicular one. All segments of one level of
  the recursion are split at once with array operations, so the work is a few passes over the
  points per level, not a Python loop per point.
- :class:`LTTBChooser` (``maxPoints``): one point per bucket chosen by Largest-Triangle-Three-
  Buckets: the point forming the largest triangle with the point chosen in the previous bucket
  and the mean of the next one. The export's buckets are of equal time, their means computed in
  a first pass (``voltstorage.exporters``), so that the choice streams.
"""

from __future__ import annotations

import numpy as np


def rdp_keep(t: np.ndarray, v: np.ndarray, epsilon: float) -> np.ndarray:
    """A mask of the points Ramer-Douglas-Peucker keeps (the first and last always)."""
    n = len(t)
    if n < 3:
        return np.ones(n, dtype=bool)
    return rdp_keep_series(
        t, v, np.array([0]), np.array([n - 1]), np.array([epsilon], dtype=np.float64)
    )


def rdp_keep_series(
    t: np.ndarray, v: np.ndarray, firsts: np.ndarray, lasts: np.ndarray, epsilons: np.ndarray
) -> np.ndarray:
    """Ramer-Douglas-Peucker over several series laid end to end in ``t`` and ``v``: series
    ``i`` runs from ``firsts[i]`` to ``lasts[i]`` (inclusive) with its own ``epsilons[i]``.
    Every level of every series' recursion is done in the same array operations, so that a
    few fields of a window cost about what one does. Returns the mask of the kept points (the
    ends of each series always; points outside every series too)."""
    keep = np.ones(len(t), dtype=bool)
    inside = np.zeros(len(t) + 1, dtype=np.int64)
    np.add.at(inside, firsts + 1, 1)
    np.add.at(inside, lasts, -1)
    keep[np.cumsum(inside[:-1]) > 0] = False  # the interiors, until chosen
    t = t.astype(np.float64)
    starts = np.asarray(firsts, dtype=np.int64)
    ends = np.asarray(lasts, dtype=np.int64)
    epsilons = np.asarray(epsilons, dtype=np.float64)
    while len(starts):
        lengths = ends - starts - 1
        active = lengths > 0
        if not active.all():
            starts, ends, lengths, epsilons = (
                starts[active],
                ends[active],
                lengths[active],
                epsilons[active],
            )
        if not len(starts):
            break
        # Every interior point of every segment, with its segment's number.
        segment = np.repeat(np.arange(len(starts)), lengths)
        first_of = np.cumsum(lengths) - lengths
        index = np.arange(len(segment))
        index += (starts + 1 - first_of)[segment]
        t0 = t[starts]
        v0 = v[starts]
        slope = (v[ends] - v0) / (t[ends] - t0)
        # |v - (v0 + slope * (t - t0))|, in place on one buffer.
        distance = t[index]
        distance -= t0[segment]
        distance *= slope[segment]
        distance += v0[segment]
        np.subtract(v[index], distance, out=distance)
        np.abs(distance, out=distance)
        largest = np.maximum.reduceat(distance, first_of)
        split = largest > epsilons
        if not split.any():
            break
        # The first point of each splitting segment at its largest distance.
        at_largest = np.flatnonzero(distance == largest[segment])
        owner = segment[at_largest]
        first = np.empty(len(owner), dtype=bool)
        first[0] = True
        np.not_equal(owner[1:], owner[:-1], out=first[1:])
        first &= split[owner]
        middle = index[at_largest[first]]
        chosen = owner[first]
        keep[middle] = True
        starts = np.concatenate([starts[chosen], middle])
        ends = np.concatenate([middle, ends[chosen]])
        epsilons = np.concatenate([epsilons[chosen], epsilons[chosen]])
    return keep


class LTTBChooser:
    """Chooses one point per bucket of one series fed in time order, in constant memory.

    ``next_mean[b]`` is the mean ``(t, v)`` of the first bucket after ``b`` that has points
    (known from a first pass). A bucket's point forms the largest triangle with the point
    chosen in the bucket before and that mean; the first bucket chooses the series' first
    point, the last bucket its last point. A bucket may arrive in several pieces."""

    def __init__(self, next_mean: dict[int, tuple[float, float]]):
        self.next_mean = next_mean
        self.chosen: list[tuple[int, float]] = []
        self._anchor: tuple[float, float] | None = None
        self._bucket: int | None = None
        self._best: tuple[float, int, float] | None = None  # (area, t, v)

    def _close(self) -> None:
        if self._best is not None:
            _, time, value = self._best
            self.chosen.append((time, value))
            self._anchor = (float(time), value)
        self._best = None

    def feed(self, t: np.ndarray, v: np.ndarray, bucket: np.ndarray) -> None:
        if not len(t):
            return
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], len(t)]
        for start, end, number in zip(
            starts.tolist(), ends.tolist(), bucket[starts].tolist(), strict=True
        ):
            if number != self._bucket:
                self._close()
                self._bucket = number
            if self._anchor is None and not self.chosen:
                if self._best is None:
                    self._best = (np.inf, int(t[start]), float(v[start]))
                continue
            mean = self.next_mean.get(number)
            if mean is None:
                # The last bucket: its last point.
                self._best = (np.inf, int(t[end - 1]), float(v[end - 1]))
                continue
            at, av = self._anchor
            bt, bv = mean
            area = np.abs(
                (at - bt) * (v[start:end] - av) - (at - t[start:end].astype(np.float64)) * (bv - av)
            )
            pick = int(np.argmax(area))
            if self._best is None or area[pick] > self._best[0]:
                self._best = (float(area[pick]), int(t[start + pick]), float(v[start + pick]))

    def finish(self) -> list[tuple[int, float]]:
        self._close()
        return self.chosen
