"""``mnist.load_data``, as ``keras.datasets.mnist``: ``(x_train, y_train), (x_test, y_test)``
with ``x`` uint8 ``(N, 28, 28)`` and ``y`` uint8 ``(N,)``.

``path`` may be Keras's ``mnist.npz`` or a folder with the four IDX files
(``train-images-idx3-ubyte.gz`` ...); without one, the Keras ``mnist.npz`` in the cache, or the
IDX files in the cache (downloaded when missing).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data.errors import DataFormatError
from ..data.loaders import load_mnist
from ..utils.files import get_file
from ._common import KERAS_DATASETS, local_path

_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def _read_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if not zipfile.is_zipfile(path):
        raise DataFormatError(f"{path} is not a NumPy .npz archive; expected Keras's mnist.npz")
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_data(path: Any = "mnist.npz"
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    local = local_path(path)
    if local is not None and local.is_file():
        return _read_npz(local)
    if local is None:
        from ..data.download import cache_dir

        cached = cache_dir("mnist") / "mnist.npz"
        if cached.is_file():
            return _read_npz(cached)
        folder = None
    else:
        folder = local
    try:
        train = load_mnist(folder, split="train", download=folder is None)
        test = load_mnist(folder, split="test", download=folder is None)
    except OSError:
        if folder is not None:
            raise
        return _read_npz(Path(get_file("mnist.npz", KERAS_DATASETS + "mnist.npz",
                                       file_hash=_NPZ_SHA256, cache_subdir="mnist")))
    return train, test
