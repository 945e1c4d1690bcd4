"""The SimpleRNNCell: its reference step (``cell.py``, the spec) and, beside it, its compiled sweeps
over all steps (``sweep.py``, numba; imported only when the compiled engine is usable)."""

from .cell import SimpleRNNCell

__all__ = ["SimpleRNNCell"]
