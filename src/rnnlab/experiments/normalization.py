"""How a forecasting model sees its windows: window-relative or global normalisation.

A window is ``lookback`` rows of ``F`` input columns; the target is one of them (``target``,
its position among the inputs), ``horizon`` rows after the window's last row.

- ``"window"`` (the default): every window is taken relative to its own last row,
  ``x' = (x - x[-1]) / s``, and the target is the change from the window's last value,
  ``y' = (y - x[-1, target]) / s[target]``; predictions are turned back into the column's units
  by ``y = y' * s[target] + x[-1, target]``. ``s`` (one number per column) is the standard
  deviation of the ``horizon``-step changes in the training part, so a window's inputs and target
  are of order one whatever level the series has reached: a series whose level leaves what
  training saw is still read in range (the idea of DeepAR's mean scaling and of RevIN). For
  prices the target is the return over the horizon, in price units.
- ``"global"``: one scaler (standard or min-max) fitted on the training part scales every value,
  and the target is the scaled value itself (the seed recipes).

:class:`WindowNormalizer` holds the choice and the fitted scaler, writes itself into a model's
metadata (:meth:`to_metadata`) and reads it back (:meth:`from_metadata`, which also reads
models written before the choice existed: those are ``"global"`` on their one column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MODES = ("window", "global")


def _scaler_from_dict(data: dict[str, Any]) -> Any:
    from ..data import MinMaxScaler, StandardScaler

    classes: dict[str, Any] = {"MinMaxScaler": MinMaxScaler, "StandardScaler": StandardScaler}
    name = data.get("class_name") if isinstance(data, dict) else None
    if name not in classes:
        raise ValueError(f"unknown scaler {name!r} in the model's metadata")
    return classes[name].from_dict(data)


@dataclass
class WindowNormalizer:
    mode: str
    scaler: Any          # fitted per input column (StandardScaler with mean 0 for "window")
    target: int          # position of the target among the input columns

    @classmethod
    def fit(cls, train: np.ndarray, mode: str, target: int, horizon: int,
            scaler: str = "standard") -> WindowNormalizer:
        """Fit on the training rows ``train`` ``(T, F)`` only."""
        from ..data import MinMaxScaler, StandardScaler

        if mode not in MODES:
            raise ValueError(f"normalize must be one of {list(MODES)}, got {mode!r}")
        arr = np.asarray(train, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"training rows must be (T, columns), got shape {arr.shape}")
        if mode == "global":
            if scaler not in ("standard", "minmax"):
                raise ValueError(f"scaler must be 'standard' or 'minmax', got {scaler!r}")
            fitted = (StandardScaler() if scaler == "standard" else MinMaxScaler()).fit(arr)
            return cls(mode, fitted, target)
        if len(arr) <= horizon:
            raise ValueError(f"{len(arr)} training rows are too few for {horizon}-step changes")
        std = (arr[horizon:] - arr[:-horizon]).std(axis=0)
        std = np.where(std > 0, std, 1.0)
        fitted = StandardScaler.from_dict({"state": {"mean_": [0.0] * arr.shape[1],
                                                     "scale_": std.tolist()}})
        return cls(mode, fitted, target)

    # -- windows -----------------------------------------------------------------------------------
    def inputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw windows ``(N, lookback, F)`` -> model inputs (float32) and each window's last
        target value (the last-value forecast, and the base of ``"window"`` targets)."""
        w = np.asarray(windows, dtype=np.float64)
        if w.ndim != 3 or w.shape[-1] != self.scaler.n_features_in_:
            raise ValueError(f"windows must be (N, lookback, {self.scaler.n_features_in_}), got "
                             f"shape {w.shape}")
        last = w[:, -1:, :]
        x = self.scaler.transform(w - last if self.mode == "window" else w)
        return x.astype(np.float32), last[:, 0, self.target].copy()

    def _base(self, last: np.ndarray) -> np.ndarray | float:
        return np.asarray(last, dtype=np.float64).reshape(-1) if self.mode == "window" else 0.0

    def targets(self, y: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Raw target values -> what the model is trained to output (float32, ``(N,)``)."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        return self.scaler.transform(y - self._base(last), feature=self.target).astype(np.float32)

    def inverse(self, pred: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Model outputs -> predictions in the target column's units."""
        p = np.asarray(pred, dtype=np.float64).reshape(-1)
        return self.scaler.inverse_transform(p, feature=self.target) + self._base(last)

    def unit(self) -> float:
        """One unit of model output in the target column's units (for loss curves)."""
        zero = np.zeros(1)
        return float(self.inverse(np.ones(1), zero)[0] - self.inverse(zero, zero)[0])

    def windows(self, rows: np.ndarray, lookback: int, horizon: int, stride: int = 1
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, last, y_raw)`` for every window of ``rows`` ``(T, F)`` with a target:
        model inputs and targets, the window's last target value and the raw target."""
        from ..data import sliding_windows

        raw_x, raw_y = sliding_windows(np.asarray(rows, dtype=np.float64), lookback, horizon,
                                       stride, target=self.target)
        x, last = self.inputs(raw_x)
        return x, self.targets(raw_y, last), last, np.asarray(raw_y, dtype=np.float64)

    # -- metadata ----------------------------------------------------------------------------------
    def to_metadata(self) -> dict[str, Any]:
        return {"normalize": self.mode, "scaler": self.scaler.to_dict(), "target": self.target}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> WindowNormalizer:
        """From a model's metadata; models without ``normalize`` are the older single-column
        ``"global"`` ones."""
        mode = meta.get("normalize", "global")
        if mode not in MODES:
            raise ValueError(f"the model's metadata has normalize={mode!r}; expected one of "
                             f"{list(MODES)}")
        return cls(mode, _scaler_from_dict(meta["scaler"]), int(meta.get("target", 0)))
