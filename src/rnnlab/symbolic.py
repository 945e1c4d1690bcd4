"""Symbolic tensors for the functional API: ``Input`` and layer calls on them build a graph.

A ``KerasTensor`` has a shape (batch dimension None), a dtype, and the ``Node`` that made it. A
node records one call of a layer: its flat tensor inputs (``x`` first, then any initial states),
its call arguments, and its flat outputs. ``rnnlab.models.Model`` runs these nodes in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    layer: Any
    inputs: list[KerasTensor]
    structure: str                    # "single", "list" or "rnn" (x plus initial states)
    n_states: int = 0
    outputs: list[KerasTensor] = field(default_factory=list)
    multi_output: bool = False
    call_kwargs: dict[str, Any] = field(default_factory=dict)  # the layer's call_arguments


@dataclass(eq=False)
class KerasTensor:
    shape: tuple[int | None, ...]
    dtype: str
    node: Node | None = None
    index: int = 0
    has_mask: bool = False
    name: str = ""

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"


def is_symbolic(value: Any) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)) and value:
        return any(isinstance(v, KerasTensor) for v in value)
    return False
