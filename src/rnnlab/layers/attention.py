"""Dot-product (Luong) ``Attention`` and additive (Bahdanau) ``AdditiveAttention``, as Keras's.

Inputs ``[query (N, Tq, D), value (N, Tv, Dv)]`` or ``[query, value, key (N, Tv, D)]`` (the key
defaults to the value). Scores ``S (N, Tq, Tv)``:

``Attention, score_mode="dot"``     ``S = a · Q Kᵀ`` (``a``: the learned scalar ``scale`` with
                                    ``use_scale=True``, initialised to 1; else 1).
``Attention, score_mode="concat"``  ``S_ij = c · Σ_d tanh(a · (q_i + k_j)_d)`` (``c``: the learned
                                    scalar ``concat_score_weight``, initialised to 1).
``AdditiveAttention``               ``S_ij = Σ_d w_d · tanh(q_i + k_j)_d`` (``w``: the learned
                                    vector ``scale (D,)``, Glorot-uniform, with ``use_scale=True``
                                    (the default); else all ones).

Masking, exactly Keras's: where the value mask (``mask=[query_mask, value_mask]``) is False, and
with ``use_causal_mask=True`` where ``j > i``, the score is lowered by ``1e9`` before the softmax
over ``j``; the weights ``W = softmax(S)`` then get dropout (``dropout``, in training, masks from
``self.draw_rng()``), the output is ``W V``, and rows whose query is masked are set to 0. The
output's mask is the query mask. ``return_attention_scores=True`` also returns ``W`` (after
dropout, as Keras). Backward is the exact derivative of all of this (the ``−1e9`` shift is a
constant). The batched products are small per sample and run as ``np.matmul``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, initializers
from .._registry import register
from .base import Layer

Array = np.ndarray
_MASK_SHIFT = 1.0e9  # Keras's value for float32/float64 scores


class _BaseAttention(Layer):
    supports_masking = True
    call_arguments = ("return_attention_scores", "use_causal_mask")

    def __init__(self, use_scale: bool, dropout: float, seed: int | None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.floating)) or not (
                0.0 <= float(dropout) <= 1.0):
            raise ValueError(f"dropout must be a number in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)

    # -- validation --------------------------------------------------------------------------------
    def _split(self, inputs: Any) -> tuple[Array, Array, Array, bool]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            got = (f"a list of {len(inputs)}" if isinstance(inputs, (list, tuple))
                   else type(inputs).__name__)
            raise ValueError(f"{self.name} must be called on a list [query, value] or "
                             f"[query, value, key], got {got}")
        arrays = [np.asarray(v, dtype=self.dtype) for v in inputs]
        for label, a in zip(("query", "value", "key"), arrays):
            if a.ndim != 3:
                raise ValueError(f"{self.name}: {label} must be a 3-D array (batch, steps, "
                                 f"features), got shape {a.shape}")
        q, v = arrays[0], arrays[1]
        k = arrays[2] if len(arrays) == 3 else v
        if k.shape[:2] != v.shape[:2] or q.shape[0] != v.shape[0]:
            raise ValueError(f"{self.name}: query, value and key must share the batch size and "
                             f"key/value the steps, got shapes {[a.shape for a in arrays]}")
        if q.shape[2] != k.shape[2]:
            raise ValueError(f"{self.name}: query and key must have the same feature size, got "
                             f"{q.shape} and {k.shape}")
        return q, v, k, len(arrays) == 3

    def _masks(self, mask: Any, q: Array, v: Array) -> tuple[Array | None, Array | None]:
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
            raise ValueError(f"{self.name}: mask must be a list [query_mask, value_mask], got "
                             f"{type(mask).__name__}")
        out: list[Array | None] = []
        for label, m, x in (("query", mask[0], q), ("value", mask[1], v)):
            if m is None:
                out.append(None)
                continue
            m = np.asarray(m, dtype=bool)
            if m.shape != x.shape[:2]:
                raise ValueError(f"{self.name}: the {label} mask must have shape (batch, steps) "
                                 f"= {x.shape[:2]}, got {m.shape}")
            out.append(m)
        return out[0], out[1]

    # -- scores (subclasses) -----------------------------------------------------------------------
    def _scores(self, q: Array, k: Array) -> tuple[Array, Any]:
        raise NotImplementedError

    def _scores_backward(self, d_scores: Array, q: Array, k: Array, aux: Any
                         ) -> tuple[Array, Array]:
        raise NotImplementedError

    # -- forward / backward ------------------------------------------------------------------------
    def forward(self, inputs: Any, training: bool = False, mask: Any = None,
                return_attention_scores: bool = False, use_causal_mask: bool = False
                ) -> tuple[Any, Any]:
        q, v, k, has_key = self._split(inputs)
        self.maybe_build([q.shape, v.shape] + ([k.shape] if has_key else []))
        q_mask, v_mask = self._masks(mask, q, v)
        scores, aux = self._scores(q, k)
        allowed = None if v_mask is None else v_mask[:, None, :]
        if use_causal_mask:
            causal = np.tril(np.ones((q.shape[1], k.shape[1]), dtype=bool))[None]
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            scores = np.where(allowed, scores, scores - _MASK_SHIFT)
        weights = activations.softmax(scores, axis=-1).astype(self.dtype, copy=False)
        keep = None
        if training and self.dropout > 0.0:
            rng = self.draw_rng()
            if self.dropout >= 1.0:
                keep = np.zeros(weights.shape, dtype=self.dtype)
            else:
                keep = ((rng.random(weights.shape) >= self.dropout) / (1.0 - self.dropout)
                        ).astype(self.dtype)
        dropped = weights if keep is None else weights * keep
        out = np.matmul(dropped, v)
        if q_mask is not None:
            out = out * q_mask[:, :, None]
        cache = (q, v, k, has_key, q_mask, weights, keep, dropped, aux, return_attention_scores)
        return ([out, dropped] if return_attention_scores else out), cache

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        q, v, k, has_key, q_mask, weights, keep, dropped, aux, with_scores = cache
        if with_scores:
            d_out = np.asarray(d_outputs[0], dtype=self.dtype)
            d_w = np.asarray(d_outputs[1], dtype=self.dtype)
        else:
            d_out, d_w = np.asarray(d_outputs, dtype=self.dtype), None
        if q_mask is not None:
            d_out = d_out * q_mask[:, :, None]
        d_v = np.matmul(np.swapaxes(dropped, 1, 2), d_out)
        d_dropped = np.matmul(d_out, np.swapaxes(v, 1, 2))
        if d_w is not None:
            d_dropped = d_dropped + d_w
        d_weights = d_dropped if keep is None else d_dropped * keep
        d_scores = weights * (d_weights - np.sum(d_weights * weights, axis=-1, keepdims=True))
        d_q, d_k = self._scores_backward(d_scores, q, k, aux)
        if has_key:
            return [d_q, d_v, d_k]
        return [d_q, d_v + d_k]

    # -- shapes and masks --------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Any, return_attention_scores: bool = False,
                             use_causal_mask: bool = False) -> Any:
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) not in (2, 3) or any(len(s) != 3 for s in shapes):
            raise ValueError(f"{self.name} expects [query, value(, key)] of 3-D shapes, got "
                             f"{shapes}")
        out = shapes[0][:-1] + (shapes[1][-1],)
        if return_attention_scores:
            return [out, shapes[0][:-1] + (shapes[-1][1],)]
        return out

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if mask is None or not isinstance(mask, (list, tuple)):
            return None
        return None if mask[0] is None else np.asarray(mask[0], dtype=bool)

    def _symbolic_call(self, inputs: Any, initial_state: Any,
                       extra: dict[str, Any] | None = None) -> Any:
        result = super()._symbolic_call(inputs, initial_state, extra)
        outs = result if isinstance(result, list) else [result]
        query = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        outs[0].has_mask = bool(getattr(query, "has_mask", False))  # the query's mask only
        return result


@register
class Attention(_BaseAttention):
    """Luong dot-product attention (``score_mode="dot"``) or the ``"concat"`` score (see the
    module docstring); Keras's weights: ``[scale]`` with ``use_scale``, then
    ``[concat_score_weight]`` with ``score_mode="concat"`` (scalars)."""

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(use_scale, dropout, seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"score_mode must be 'dot' or 'concat', got {score_mode!r}")
        self.score_mode = score_mode

    def build(self, input_shape: Any) -> None:
        if self.use_scale:
            self.add_param("scale", np.ones((), dtype=self.dtype))
        if self.score_mode == "concat":
            self.add_param("concat_score_weight", np.ones((), dtype=self.dtype))
        self.built = True

    def _scale(self) -> Any:
        return self.params["scale"] if self.use_scale else 1.0

    def _scores(self, q: Array, k: Array) -> tuple[Array, Any]:
        if self.score_mode == "dot":
            raw = np.matmul(q, np.swapaxes(k, 1, 2))
            return raw * self._scale(), raw
        summed = q[:, :, None, :] + k[:, None, :, :]  # (N, Tq, Tv, D)
        t = np.tanh(self._scale() * summed)
        tsum = t.sum(axis=-1)
        return self.params["concat_score_weight"] * tsum, (summed, t, tsum)

    def _scores_backward(self, d_scores: Array, q: Array, k: Array, aux: Any
                         ) -> tuple[Array, Array]:
        a = self._scale()
        if self.score_mode == "dot":
            raw = aux
            if self.use_scale:
                self.grads["scale"] += np.sum(d_scores * raw)
            d_raw = d_scores * a
            return np.matmul(d_raw, k), np.matmul(np.swapaxes(d_raw, 1, 2), q)
        summed, t, tsum = aux
        c = self.params["concat_score_weight"]
        self.grads["concat_score_weight"] += np.sum(d_scores * tsum)
        d_u = (c * d_scores)[..., None] * (1.0 - t * t)  # gradient of a·(q_i + k_j)
        if self.use_scale:
            self.grads["scale"] += np.sum(d_u * summed)
        d_summed = d_u * a
        return d_summed.sum(axis=2), d_summed.sum(axis=1)


@register
class AdditiveAttention(_BaseAttention):
    """Bahdanau additive attention (see the module docstring); Keras's weights: ``[scale (D,)]``
    with ``use_scale=True``. Query, key (and so value, when it is the key) share the feature
    size."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(use_scale, dropout, seed, **kwargs)

    def build(self, input_shape: Any) -> None:
        dim = tuple(input_shape[0])[-1]
        if dim is None:
            raise ValueError(f"{self.name} needs a known query feature size, got "
                             f"{input_shape}")
        if self.use_scale:
            init = initializers.get("glorot_uniform")
            self.add_param("scale", init((int(dim),), self.layer_rng(0), self.dtype))
        self.built = True

    def _scores(self, q: Array, k: Array) -> tuple[Array, Any]:
        t = np.tanh(q[:, :, None, :] + k[:, None, :, :])  # (N, Tq, Tv, D)
        if self.use_scale:
            return t @ self.params["scale"], t
        return t.sum(axis=-1), t

    def _scores_backward(self, d_scores: Array, q: Array, k: Array, aux: Any
                         ) -> tuple[Array, Array]:
        t = aux
        if self.use_scale:
            self.grads["scale"] += np.einsum("nij,nijd->d", d_scores, t)
            d_t = d_scores[..., None] * self.params["scale"]
        else:
            d_t = np.broadcast_to(d_scores[..., None], t.shape)
        d_u = d_t * (1.0 - t * t)
        return d_u.sum(axis=2), d_u.sum(axis=1)
