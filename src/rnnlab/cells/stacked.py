"""``StackedRNNCells``: Keras's wrapper that makes a list of cells one cell.

``RNN(StackedRNNCells([LSTMCell(8), GRUCell(4)]))`` runs the cells as a stack, exactly as
``RNN([LSTMCell(8), GRUCell(4)])``: each cell's output feeds the next at every step (the stack is
swept cell by cell, which computes the same numbers as step by step). Weights are in Keras's
order, every weight of the first cell then the next; ``return_state`` states are each cell's
states in order (LSTM: h, c). Cells may be built-in or Keras-style custom cells.
"""

from __future__ import annotations

from typing import Any

from .._registry import register
from ..module import Module


@register
class StackedRNNCells(Module):
    """A list of cells given to ``RNN`` as one cell (see the module docstring)."""

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        super().__init__()
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell, got an empty list")
        self.cells = cells
        self.name = kwargs.get("name", "stacked_rnn_cells")

    @property
    def state_size(self) -> list[Any]:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> Any:
        return self.cells[-1].output_size
