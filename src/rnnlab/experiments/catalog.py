"""Imports every built-in experiment so each registers itself."""

from . import counting  # noqa: F401
from . import sine  # noqa: F401
from . import mnist_rows  # noqa: F401
from . import ptb  # noqa: F401
from . import sentiment_tiny  # noqa: F401
from . import sentiment  # noqa: F401
from . import stocks  # noqa: F401
from . import timeseries  # noqa: F401
from . import charlm  # noqa: F401
from . import embeddings  # noqa: F401
from . import addition  # noqa: F401
