"""``rnnlab.config``: Keras's ``keras.config`` functions that rnnlab has.

``enable_unsafe_deserialization()`` allows loading a ``Lambda``'s Python lambda (bytecode) from
model files (``rnnlab.safe_mode``); it takes precedence over ``load_model(safe_mode=True)``.
"""

from .safe_mode import enable_unsafe_deserialization

__all__ = ["enable_unsafe_deserialization"]
