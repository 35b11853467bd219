"""Line simplification for the export, with NumPy: Ramer-Douglas-Peucker and
Largest-Triangle-Three-Buckets.

- :func:`rdp_keep` (``tolerance``): the points of a series that Ramer-Douglas-Peucker keeps
  when no dropped point may lie farther than ``epsilon`` (in the value's unit) from the line
  between the kept points around it. The distance is vertical (in value, at the point's time):
  time and value have no common scale for a perpendicular one. All segments of one level of
  the recursion are split at once with array operations, so the work is a few passes over the
  points per level, not a Python loop per point.
- :func:`lttb_select` (``maxPoints``): one point per bucket chosen by Largest-Triangle-Three-
  Buckets: the point forming the largest triangle with the point chosen in the previous bucket
  and the mean of the next one. The export's buckets are of equal time, their means computed in
  a first pass (``voltstorage.exporters``), so that the choice streams.
"""

from __future__ import annotations

import numpy as np


def rdp_keep(t: np.ndarray, v: np.ndarray, epsilon: float) -> np.ndarray:
    """A mask of the points Ramer-Douglas-Peucker keeps (the first and last always)."""
    n = len(t)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    keep[0] = keep[-1] = True
    if n < 3:
        return keep
    t = t.astype(np.float64)
    starts = np.array([0], dtype=np.int64)
    ends = np.array([n - 1], dtype=np.int64)
    while len(starts):
        lengths = ends - starts - 1
        active = lengths > 0
        starts, ends, lengths = starts[active], ends[active], lengths[active]
        if not len(starts):
            break
        # Every interior point of every segment, with its segment's number.
        segment = np.repeat(np.arange(len(starts)), lengths)
        first_of = np.cumsum(lengths) - lengths
        index = starts[segment] + 1 + (np.arange(len(segment)) - first_of[segment])
        t0, t1 = t[starts], t[ends]
        v0, v1 = v[starts], v[ends]
        slope = (v1 - v0) / (t1 - t0)
        distance = np.abs(v[index] - (v0[segment] + slope[segment] * (t[index] - t0[segment])))
        largest = np.maximum.reduceat(distance, first_of)
        split = largest > epsilon
        if not split.any():
            break
        # The first point of each splitting segment at its largest distance.
        at_largest = np.flatnonzero((distance == largest[segment]) & split[segment])
        firsts = at_largest[np.r_[True, segment[at_largest][1:] != segment[at_largest][:-1]]]
        middle = index[firsts]
        chosen = segment[firsts]
        keep[middle] = True
        starts = np.concatenate([starts[chosen], middle])
        ends = np.concatenate([middle, ends[chosen]])
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
