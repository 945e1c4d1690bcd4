from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder beside the project; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def three_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Row blocks of at least 2 rows on 3 threads under the numba engine, whatever this machine
    has (the BLAS thread count is left alone)."""
    from rnnlab import kernels
    from rnnlab.kernels import _pool

    monkeypatch.setattr(_pool, "MIN_ROWS", 2)
    if kernels.numba_status()[0]:
        from rnnlab.kernels import _numba_kernels

        monkeypatch.setattr(_numba_kernels, "threads", lambda: 3)
        monkeypatch.setattr(_numba_kernels, "_set_local", lambda n: 0)
