import gc

import pytest


@pytest.fixture(autouse=True)
def _free_figures():
    """Figures made here are closed and their garbage (matplotlib's reference cycles, some
    freed only by weakref callbacks during a collection) collected before the next test, so
    tests elsewhere that count cyclic garbage do not see it."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    for _ in range(3):
        gc.collect()
