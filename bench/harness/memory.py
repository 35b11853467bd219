"""Peak resident memory of a server's process tree while something runs: ``PeakMemory``."""

from __future__ import annotations

import threading

from bench.harness.procfs import process_tree_rss_mb


class PeakMemory:
    """Samples the resident memory (MiB) of ``pid`` and all its descendants every
    ``interval`` seconds in a background thread, between ``__enter__`` and ``__exit__``::

        with PeakMemory(server.process.pid) as memory:
            ...  # download 200 MB
        print(memory.baseline_mb, memory.peak_mb, memory.growth_mb)

    ``baseline_mb`` is read on entering, ``peak_mb`` is the highest sample (entering and
    leaving included), ``growth_mb`` their difference. Shared pages count in every process of
    the tree (as in ``process_tree_rss_mb``), which inflates both figures alike; the growth is
    what a body held in memory would show. A process that starts after entering (a worker
    forked later) is included from the next sample on."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.pid = pid
        self.interval = interval
        self.baseline_mb = 0.0
        self.peak_mb = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> float:
        """One reading now (also counted in the peak)."""
        rss = process_tree_rss_mb(self.pid)
        self.peak_mb = max(self.peak_mb, rss)
        self.samples += 1
        return rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.baseline_mb = self.peak_mb = process_tree_rss_mb(self.pid)
        self.samples = 1
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.sample()

    @property
    def growth_mb(self) -> float:
        """Peak above the baseline, in MiB."""
        return self.peak_mb - self.baseline_mb
