"""The per-call timer the small benchmark scripts share."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def median_us(fn: Any, n: int = 200, warmup: int = 5) -> float:
    """Median wall time of ``n`` calls of ``fn`` (after ``warmup`` untimed ones), in us."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e6 * float(np.median(ts))
