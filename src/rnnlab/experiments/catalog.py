"""Imports every built-in experiment so each registers itself."""

from . import (
    addition,  # noqa: F401
    charlm,  # noqa: F401
    counting,  # noqa: F401
    embeddings,  # noqa: F401
    mnist_rows,  # noqa: F401
    ptb,  # noqa: F401
    sentiment,  # noqa: F401
    sentiment_tiny,  # noqa: F401
    sine,  # noqa: F401
    stocks,  # noqa: F401
    timeseries,  # noqa: F401
    vanishing,  # noqa: F401
)
