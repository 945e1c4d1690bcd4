"""``model.summary()``: the layer table with output shapes and parameter counts (Keras's)."""

from __future__ import annotations

from typing import Any


def _fmt_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def format_summary(model: Any, line_length: int = 80) -> str:
    layers = model.layers
    if hasattr(model, "layer_output_shapes"):
        shapes = model.layer_output_shapes()
    else:
        shapes = []
        for layer in layers:
            if not any(n.layer is layer for n in model._nodes):
                shapes.append(getattr(layer, "batch_shape", None))  # an InputLayer
                continue
            outs = [t for n in model._nodes if n.layer is layer for t in n.outputs]
            shapes.append([t.shape for t in outs] if len(outs) > 1 else outs[0].shape)
    widths = [int(line_length * 0.45), int(line_length * 0.33)]
    widths.append(line_length - sum(widths))
    rule = "_" * line_length
    lines = [f'Model: "{model.name}"', rule,
             _row(["Layer (type)", "Output Shape", "Param #"], widths), "=" * line_length]
    total = trainable = 0
    for layer, shape in zip(layers, shapes):
        n = layer.count_params() if layer.built else 0
        n_train = sum(v.size for _, v in layer.named_params()) if layer.trainable else 0
        total += n
        trainable += n_train
        lines.append(_row([f"{layer.name} ({type(layer).__name__})", _fmt_shape(shape),
                           f"{n:,}" if layer.built else "0 (unbuilt)"], widths))
        lines.append(rule)
    lines[-1] = "=" * line_length
    lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", rule]
    return "\n".join(lines)


def _row(cells: list[str], widths: list[int]) -> str:
    """One table row; a cell too long for its column continues on the next lines (shapes are
    broken after a comma when possible), as Keras's summary does."""
    columns = [_wrap(cell, width - 1) for cell, width in zip(cells, widths)]
    lines = []
    for k in range(max(len(c) for c in columns)):
        line = ""
        for col, width in zip(columns, widths):
            line += (col[k] if k < len(col) else "").ljust(width)
        lines.append(line.rstrip())
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    width = max(width, 1)
    out: list[str] = []
    while len(text) > width:
        cut = text.rfind(", ", 0, width)
        if cut <= 0:
            out.append(text[:width])
            text = text[width:]
        else:
            out.append(text[:cut + 1])
            text = text[cut + 2:]
    out.append(text)
    return out
