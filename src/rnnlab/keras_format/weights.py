"""Layer weights in Keras 3's HDF5 layout (``model.weights.h5`` / ``.weights.h5``).

A layer's variables live in ``layers/<path>/vars/0, 1, ...`` where ``<path>`` is its Keras
class name in snake case, numbered ``_1, _2`` in the model's layer order. Recurrent layers keep
them one level down, in their cell (``layers/lstm/cell/vars``; a stack of cells:
``cell/cells/lstm_cell/vars``, ``cell/cells/lstm_cell_1/vars``); ``Bidirectional`` in
``forward_layer/...`` then ``backward_layer/...``; ``TimeDistributed`` in ``layer/...``. The
values are Keras's own layout, i.e. ``get_weights()``/``set_weights()``, so nothing here depends
on rnnlab's internal parameter names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import h5
from .config import snake


def groups(layer: Any) -> list[tuple[str, int]]:
    """``[(sub-path, number of variables)]`` of ``layer`` in ``get_weights()`` order."""
    if not getattr(layer, "built", True):
        return []
    cells = getattr(layer, "cells", None)
    if cells is not None and hasattr(layer, "go_backwards"):
        if len(cells) == 1:
            return [("cell", len(cells[0].get_keras_weights()))]
        used: dict[str, int] = {}
        out = []
        for cell in cells:
            base = snake(type(cell).__name__)
            used[base] = used.get(base, -1) + 1
            name = base if used[base] == 0 else f"{base}_{used[base]}"
            out.append((f"cell/cells/{name}", len(cell.get_keras_weights())))
        return out
    fwd, bwd = layer.__dict__.get("forward_layer"), layer.__dict__.get("backward_layer")
    if fwd is not None and bwd is not None:
        return ([(f"forward_layer/{p}".rstrip("/"), n) for p, n in groups(fwd)]
                + [(f"backward_layer/{p}".rstrip("/"), n) for p, n in groups(bwd)])
    inner = layer.__dict__.get("layer")
    if inner is not None and hasattr(inner, "get_weights"):
        return [(f"layer/{p}".rstrip("/"), n) for p, n in groups(inner)]
    return [("", len(layer.get_weights()))]


def _vars_path(base: str, sub: str) -> str:
    return "/".join(p for p in (base, sub, "vars") if p)


def read_layer(root: Any, layer: Any, path: str, what: str) -> None:
    """Set ``layer``'s weights from ``root[path]``, every dataset checked before it is read."""
    expected = [tuple(w.shape) for w in layer.get_weights()]
    values: list[np.ndarray] = []
    k = 0
    for sub, n in groups(layer):
        vars_path = _vars_path(path, sub)
        if n == 0:
            continue
        grp = h5.group(root, vars_path, what)
        names = h5.keys(grp, what)
        if sorted(names) != sorted(str(i) for i in range(n)):
            raise h5.ModelFileError(
                f"{what}: {grp.name} holds {sorted(names)[:10]}; layer {layer.name!r} expects "
                f"{n} variables named 0..{n - 1}")
        for i in range(n):
            values.append(h5.read(grp, str(i), expected[k], f"{what} (layer {layer.name!r})"))
            k += 1
    if k != len(expected):
        raise h5.ModelFileError(f"{what}: layer {layer.name!r} has {len(expected)} weights, "
                                f"the file's groups hold {k}")
    if values:
        try:
            layer.set_weights([v.astype(w.dtype, copy=False)
                               for v, w in zip(values, layer.get_weights())])
        except ValueError as exc:
            raise h5.ModelFileError(f"{what}: layer {layer.name!r}: {exc}") from exc


def write_layer(root: Any, layer: Any, path: str) -> None:
    weights = layer.get_weights()
    k = 0
    made = root.require_group(path)
    made.require_group("vars").attrs["name"] = layer.name
    for sub, n in groups(layer):
        grp = root.require_group(_vars_path(path, sub))
        grp.attrs["name"] = layer.name
        for i in range(n):
            grp.create_dataset(str(i), data=np.asarray(weights[k]))
            k += 1


def check_no_extra(root: Any, used: set[str], what: str) -> None:
    """Refuse a file with weights for layers the model does not have."""
    if "layers" not in root:
        if used:
            raise h5.ModelFileError(f"{what}: no 'layers' group (not a Keras weights file?)")
        return
    layers = h5.group(root, "layers", what)
    for name in h5.keys(layers, what):
        if name in used:
            continue
        dataset = h5.h5py_module().Dataset

        def visit(sub: str, obj: Any, kind: Any = dataset) -> Any:
            return sub if isinstance(obj, kind) else None  # a non-None value stops the walk

        if layers[name].visititems(visit) is not None:
            raise h5.ModelFileError(f"{what}: the file has weights for layer group "
                                    f"{name!r}, which the model does not have (layers: "
                                    f"{sorted(used)})")


def read_model(root: Any, pairs: list[tuple[Any, str]], what: str) -> None:
    for layer, path in pairs:
        read_layer(root, layer, f"layers/{path}", what)
    check_no_extra(root, {p for _, p in pairs}, what)


def write_model(root: Any, model: Any, pairs: list[tuple[Any, str]]) -> None:
    root.require_group("layers")
    for layer, path in pairs:
        write_layer(root, layer, f"layers/{path}")
    root.require_group("vars").attrs["name"] = model.name
