"""Every op's tape gradient equals central differences (float64) and PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import ops
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.ops import Tape, Tensor

IDX = np.array([2, 0, 2, 1])
MASK = np.array([[True, False, True], [False, True, True]])

# (name, rnnlab.ops function, torch function, input shapes, domain)
CASES = [
    ("add_broadcast", lambda a, b: ops.add(a, b), lambda a, b: a + b, [(2, 3, 4), (3, 1)], "r"),
    ("sub_op", lambda a, b: a - b, lambda a, b: a - b, [(4,), (2, 4)], "r"),
    ("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, [(2, 3)], "r"),
    ("mul_broadcast", lambda a, b: a * b, lambda a, b: a * b, [(2, 1, 4), (3, 1)], "r"),
    ("div_broadcast", lambda a, b: ops.divide(a, b), lambda a, b: a / b, [(2, 3), (3,)], "p"),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3,)], "p"),
    ("negative", lambda a: -ops.negative(a) * a, lambda a: a * a, [(2, 3)], "r"),
    ("power_tensor", lambda a, b: ops.power(a, b), lambda a, b: a ** b, [(2, 3), (3,)], "p"),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(2, 3)], "r"),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(2, 3)], "r"),
    ("square", ops.square, torch.square, [(3, 2)], "r"),
    ("sqrt", ops.sqrt, torch.sqrt, [(3, 2)], "p"),
    ("exp", ops.exp, torch.exp, [(3, 2)], "r"),
    ("log", ops.log, torch.log, [(3, 2)], "p"),
    ("abs", ops.abs, torch.abs, [(3, 4)], "r"),
    ("tanh", ops.tanh, torch.tanh, [(3, 4)], "r"),
    ("sigmoid", ops.sigmoid, torch.sigmoid, [(3, 4)], "r"),
    ("relu", ops.relu, torch.relu, [(3, 4)], "r"),
    ("softmax", lambda a: ops.softmax(a, axis=1), lambda a: torch.softmax(a, 1), [(2, 5, 3)], "r"),
    ("softmax_last", ops.softmax, lambda a: torch.softmax(a, -1), [(4, 5)], "r"),
    ("matmul", ops.matmul, torch.matmul, [(3, 4), (4, 2)], "r"),
    ("matmul_batch_bcast", lambda a, b: a @ b, torch.matmul, [(2, 3, 4), (4, 5)], "r"),
    ("matmul_vec_left", ops.matmul, torch.matmul, [(4,), (2, 4, 3)], "r"),
    ("matmul_vec_right", ops.matmul, torch.matmul, [(2, 3, 4), (4,)], "r"),
    ("rmatmul_array", lambda a: np.arange(6.0).reshape(2, 3) @ a,
     lambda a: torch.arange(6.0, dtype=torch.float64).reshape(2, 3) @ a, [(3, 2)], "r"),
    ("einsum_nested", lambda a, b: ops.einsum("bij,ijkl->bkl", a, b),
     lambda a, b: torch.einsum("bij,ijkl->bkl", a, b), [(2, 3, 4), (3, 4, 2, 5)], "r"),
    ("einsum_implicit_sum", lambda a, b: ops.einsum("ij,jk", a, b),
     lambda a, b: torch.einsum("ij,jk", a, b), [(2, 3), (3, 4)], "r"),
    ("einsum_summed_out", lambda a, b: ops.einsum("bi,jk->bk", a, b),
     lambda a, b: torch.einsum("bi,jk->bk", a, b), [(2, 3), (4, 5)], "r"),
    ("reshape", lambda a: ops.reshape(a, (3, -1)) * 2, lambda a: a.reshape(3, -1) * 2,
     [(2, 3, 2)], "r"),
    ("transpose_axes", lambda a: ops.transpose(a, (2, 0, 1)), lambda a: a.permute(2, 0, 1),
     [(2, 3, 4)], "r"),
    ("T", lambda a: a.T @ a, lambda a: a.T @ a, [(3, 2)], "r"),
    ("expand_squeeze", lambda a: ops.squeeze(ops.expand_dims(a, 1) * a[:, None], 1),
     lambda a: (a.unsqueeze(1) * a[:, None]).squeeze(1), [(3, 4)], "r"),
    ("concatenate", lambda a, b: ops.concatenate([a, b, a], axis=1),
     lambda a, b: torch.cat([a, b, a], 1), [(2, 3), (2, 1)], "r"),
    ("stack", lambda a, b: ops.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], -1),
     [(2, 3), (2, 3)], "r"),
    ("split", lambda a: (lambda p: p[0] * p[1] + p[2])(ops.split(a, 3, axis=1)),
     lambda a: (lambda p: p[0] * p[1] + p[2])(torch.split(a, 2, 1)), [(2, 6)], "r"),
    ("split_indices", lambda a: ops.split(a, [1, 3], axis=0)[1] ** 2,
     lambda a: a[1:3] ** 2, [(4, 2)], "r"),
    ("slice", lambda a: a[1:, 0] * a[:2, -1], lambda a: a[1:, 0] * a[:2, -1], [(3, 4)], "r"),
    ("slice_step", lambda a: a[::2, 1:3], lambda a: a[::2, 1:3], [(5, 4)], "r"),
    ("fancy_repeat", lambda a: a[IDX] * 1.0, lambda a: a[torch.from_numpy(IDX)],
     [(3, 2)], "r"),
    ("fancy_bool", lambda a: a[MASK], lambda a: a[torch.from_numpy(MASK)], [(2, 3)], "r"),
    ("take_axis", lambda a: ops.take(a, IDX, axis=1),
     lambda a: torch.index_select(a, 1, torch.from_numpy(IDX)), [(2, 3)], "r"),
    ("take_flat", lambda a: ops.take(a, IDX),
     lambda a: a.reshape(-1)[torch.from_numpy(IDX)], [(2, 3)], "r"),
    ("sum_all", ops.sum, torch.sum, [(2, 3)], "r"),
    ("sum_axis_keep", lambda a: ops.sum(a, axis=(0, 2), keepdims=True),
     lambda a: a.sum((0, 2), keepdim=True), [(2, 3, 4)], "r"),
    ("mean_axis", lambda a: ops.mean(a, axis=1), lambda a: a.mean(1), [(2, 3, 4)], "r"),
    ("mean_method", lambda a: a.mean(), lambda a: a.mean(), [(2, 3)], "r"),
    ("max_axis", lambda a: ops.max(a, axis=-1), lambda a: a.amax(-1), [(3, 5)], "r"),
    ("min_all", ops.min, torch.amin, [(3, 5)], "r"),
    ("max_keep", lambda a: ops.max(a, axis=0, keepdims=True), lambda a: a.amax(0, True),
     [(3, 5)], "r"),
    ("maximum_bcast", ops.maximum, torch.maximum, [(2, 3), (3,)], "r"),
    ("minimum", ops.minimum, torch.minimum, [(2, 3), (2, 3)], "r"),
    ("clip", lambda a: ops.clip(a, -0.5, 0.5), lambda a: torch.clamp(a, -0.5, 0.5),
     [(4, 5)], "r"),
    ("where_bcast", lambda a, b: ops.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
     [(3, 4), (4,)], "r"),
    ("stop_gradient", lambda a, b: ops.stop_gradient(a * b) * a,
     lambda a, b: (a * b).detach() * a, [(2, 3), (2, 3)], "r-no-fd"),
    ("one_hot_mul", lambda a: ops.one_hot(np.array([0, 2]), 3, dtype="float64") * a,
     lambda a: torch.nn.functional.one_hot(torch.tensor([0, 2]), 3).double() * a,
     [(2, 3)], "r"),
    ("zeros_ones", lambda a: a + ops.zeros_like(a) + ops.ones((3,), "float64") * a,
     lambda a: a + a, [(2, 3)], "r"),
    ("reuse", lambda a: ops.tanh(a) * a + a @ a.T, lambda a: torch.tanh(a) * a + a @ a.T,
     [(3, 3)], "r"),
]


def _inputs(shapes: list[tuple[int, ...]], domain: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if domain.startswith("p"):
        return [rng.uniform(0.5, 2.0, s) for s in shapes]
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("name,fn,tfn,shapes,domain", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences_and_torch(name, fn, tfn, shapes, domain):
    xs = _inputs(shapes, domain, seed=len(name))
    leaves = [Tensor(x.copy(), requires_grad=True) for x in xs]
    out = fn(*leaves)
    assert isinstance(out, Tensor)
    plain = fn(*xs)  # outside a trace the op is plain NumPy
    assert not isinstance(plain, Tensor)
    assert isinstance(plain, np.ndarray) or name.endswith("method")
    np.testing.assert_allclose(np.asarray(out), plain, rtol=0, atol=0)
    seed = np.random.default_rng(99).standard_normal(out.shape)
    gm = Tape.record([out]).backward([seed])
    grads = [gm[t] for t in leaves]

    def loss() -> float:
        return float(np.sum(np.asarray(fn(*xs)) * seed))

    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout = tfn(*ts)
    np.testing.assert_allclose(tout.detach().numpy(), plain, rtol=1e-12, atol=1e-12)
    (tout * torch.from_numpy(seed)).sum().backward()
    for x, g, t in zip(xs, grads, ts):
        assert g.shape == x.shape
        if not domain.endswith("no-fd"):  # stop_gradient is invisible to finite differences
            num = numerical_gradient(loss, x)
            assert relative_error(g, num) < 1e-7, (name, g, num)
        tg = t.grad.numpy() if t.grad is not None else np.zeros_like(x)
        np.testing.assert_allclose(g, tg, rtol=1e-11, atol=1e-12)


def test_tensor_behaves_like_an_array():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float64 and x.size == 6
    assert len(x) == 2 and np.asarray(x).shape == (2, 3)
    assert (x > 2).dtype == bool
    y = np.ones(3) + x  # numpy on the left defers to the tensor
    assert isinstance(y, Tensor)


def test_gradients_accumulate_over_reuse_and_zero_for_unused():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0]), requires_grad=True)
    (ga, gb) = ops.grad(ops.sum(a * a + a), [a, b])
    np.testing.assert_array_equal(ga, [3.0, 5.0])
    np.testing.assert_array_equal(gb, [0.0])


def test_einsum_rejects_ellipsis_with_clear_error():
    with pytest.raises(ValueError, match="ellipsis"):
        ops.einsum("...i,i->...", np.ones((2, 3)), np.ones(3))


def test_split_rejects_uneven_sections():
    with pytest.raises(ValueError, match="equal sections"):
        ops.split(np.ones((2, 5)), 2, axis=1)
