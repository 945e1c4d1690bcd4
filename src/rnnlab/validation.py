"""Validation of training targets and sample weights at the model boundary (``fit``,
``evaluate``, ``train_on_batch``, ``test_on_batch``, and each batch a generator yields), as the
features are validated: NaN or infinity is refused with an error naming the argument, the output
and the first bad position, before any step is taken."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def check_finite(value: Any, what: str) -> None:
    """Raise ValueError when the numeric array ``value`` holds NaN or infinity."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fc" or not arr.size:
        return  # integers (class ids) and booleans are always finite; others fail downstream
    finite = np.isfinite(arr)
    if finite.all():
        return
    bad = np.argwhere(~finite)
    first = tuple(int(i) for i in bad[0])
    raise ValueError(
        f"{what} contains {len(bad)} NaN or infinite value(s), the first ({arr[first]}) at index "
        f"{first} of an array of shape {arr.shape}; expected finite numbers")


def check_targets(ys: Sequence[Any] | None, sample_weight: Any, names: Sequence[str],
                  where: str = "") -> None:
    """Targets (one array per output, named ``names``) and sample weights must be finite.
    ``where``: appended to the message (for example ``" in batch 3 of the generator"``)."""
    for name, y in zip(names, ys or []):
        check_finite(y, f"targets y for output {name!r}{where}")
    if sample_weight is not None:
        check_finite(sample_weight, f"sample_weight{where}")
