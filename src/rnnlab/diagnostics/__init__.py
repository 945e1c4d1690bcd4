"""Seeing inside recurrent models: gradient flow through time, gates and states.

``gradient_flow(model, x, y)`` measures ‖∂L/∂h_t‖ at every step of every recurrent layer (full
or truncated BPTT), the state Jacobians ‖∂h_T/∂h_t‖ and the parameter gradient norms;
``introspect(model, x)`` gives every step's gate activations, states and saturation shares.
Both run on a float64 copy of the model, so the model is left bit-identical, and read what the
recurrent layers' own sweeps compute (``RNN.trace``, ``RNN.backward_with_state_grads``): no
second copy of the recurrence lives here.
"""

from .flow import GradientFlow, gradient_flow
from .introspect import Introspection, introspect
from .plots import CELL_COLORS

__all__ = ["CELL_COLORS", "GradientFlow", "Introspection", "gradient_flow", "introspect"]
