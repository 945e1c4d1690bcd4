"""Optimizers: PyTorch oracle (10 steps, float64), Keras golden values and hand-computed Keras
formulas, clipping, schedules, state round trips, dtypes, config and lookup.

Where Keras and PyTorch compute different functions, the difference is written down next to the
test and the arguments are chosen so that both compute the same function:

* SGD: Keras ``m = momentum*m - lr*g; p += m`` (nesterov ``p += momentum*m - lr*g``), PyTorch
  ``buf = momentum*buf + g; p -= lr*buf`` (nesterov ``p -= lr*(g + momentum*buf)``). With a
  constant rate ``m = -lr*buf``: the same function, only the rounding differs -> rtol 1e-12.
* RMSprop: Keras ``lr*g/sqrt(v + eps)``, PyTorch ``lr*g/(sqrt(v) + eps)``, PyTorch default
  ``alpha=0.99`` vs Keras ``rho=0.9``. Keras requires eps > 0, so it gets eps=1e-300 (below half
  an ulp of v, so ``sqrt(v + eps) == sqrt(v)`` exactly) and PyTorch eps=0; alpha = rho.
* Adagrad: Keras ``lr*g/sqrt(acc + eps)`` with acc starting at 0.1, PyTorch
  ``lr*g/(sqrt(acc) + eps)`` with acc starting at 0: both eps=0 and
  ``initial_accumulator_value=0.1`` in PyTorch.
* Adam/AdamW: Keras ``lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps)``, PyTorch
  ``lr/(1-b1^t) * m/(sqrt(v)/sqrt(1-b2^t) + eps)``: identical when PyTorch's eps at step t is
  ``eps/sqrt(1-b2^t)``, which the test sets before every PyTorch step (so eps stays non-zero).
  AdamW's decay is ``p -= p*wd*lr`` (Keras) vs ``p *= 1 - lr*wd`` (PyTorch); PyTorch's default
  weight_decay is 0.01, Keras's 0.004.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnlab import optimizers
from rnnlab._registry import deserialize, serialize
from rnnlab.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ExponentialDecay,
    PiecewiseConstantDecay,
    RMSprop,
    StepDecay,
    clip_gradients,
    global_norm,
)

# ---------------------------------------------------------------------------------------------
# a tiny linear model: loss = 0.5 * mean((X W + b - Y)^2)
# ---------------------------------------------------------------------------------------------
_rng = np.random.default_rng(1234)
X = _rng.normal(size=(8, 3))
Y = _rng.normal(size=(8, 2))
W0 = _rng.normal(size=(3, 2))
B0 = _rng.normal(size=(2,))


def _grads(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    err = (X @ params["W"] + params["b"] - Y) / Y.size
    return {"W": X.T @ err, "b": err.sum(axis=0)}


def _run_ours(opt: optimizers.Optimizer, steps: int = 10) -> list[dict[str, np.ndarray]]:
    params = {"W": W0.copy(), "b": B0.copy()}
    traj = []
    for _ in range(steps):
        opt.apply(params, _grads(params))
        traj.append({k: v.copy() for k, v in params.items()})
    return traj


def _run_torch(make_opt, steps: int = 10, before_step=None, scheduler=None):
    torch = pytest.importorskip("torch")
    W = torch.tensor(W0.copy(), requires_grad=True)
    b = torch.tensor(B0.copy(), requires_grad=True)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    opt = make_opt(torch, [W, b])
    sched = scheduler(torch, opt) if scheduler else None
    traj = []
    for t in range(1, steps + 1):
        opt.zero_grad()
        loss = 0.5 * ((Xt @ W + b - Yt) ** 2).mean()
        loss.backward()
        if before_step is not None:
            before_step(opt, t)
        opt.step()
        if sched is not None:
            sched.step()
        traj.append({"W": W.detach().numpy().copy(), "b": b.detach().numpy().copy()})
    return traj


def _assert_traj(ours, theirs, rtol):
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for k in ("W", "b"):
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=0, err_msg=f"step {step} {k}")


# ---------------------------------------------------------------------------------------------
# PyTorch oracle
# ---------------------------------------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)]
)
def test_sgd_matches_torch(momentum, nesterov):
    ours = _run_ours(SGD(learning_rate=0.3, momentum=momentum, nesterov=nesterov))
    theirs = _run_torch(
        lambda torch, p: torch.optim.SGD(
            p, lr=0.3, momentum=momentum, nesterov=nesterov, foreach=False
        )
    )
    _assert_traj(ours, theirs, rtol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "momentum, centered", [(0.0, False), (0.0, True), (0.8, False), (0.8, True)]
)
def test_rmsprop_matches_torch(momentum, centered):
    ours = _run_ours(
        RMSprop(learning_rate=0.01, rho=0.9, momentum=momentum, epsilon=1e-300, centered=centered)
    )
    theirs = _run_torch(
        lambda torch, p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.9, eps=0.0, momentum=momentum, centered=centered, foreach=False
        )
    )
    _assert_traj(ours, theirs, rtol=1e-10)


@pytest.mark.oracle
def test_adagrad_matches_torch():
    ours = _run_ours(Adagrad(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=0.0))
    theirs = _run_torch(
        lambda torch, p: torch.optim.Adagrad(
            p, lr=0.1, initial_accumulator_value=0.1, eps=0.0, foreach=False
        )
    )
    _assert_traj(ours, theirs, rtol=1e-10)


def _torch_eps_schedule(eps: float, beta_2: float):
    """PyTorch eps at step t equal to Keras's eps (see the module docstring)."""

    def before_step(opt, t):
        for group in opt.param_groups:
            group["eps"] = eps / math.sqrt(1.0 - beta_2**t)

    return before_step


@pytest.mark.oracle
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("eps", [1e-7, 1e-2])
def test_adam_matches_torch(amsgrad, eps):
    ours = _run_ours(
        Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=eps, amsgrad=amsgrad)
    )
    theirs = _run_torch(
        lambda torch, p: torch.optim.Adam(
            p, lr=0.05, betas=(0.8, 0.95), eps=eps, amsgrad=amsgrad, foreach=False
        ),
        before_step=_torch_eps_schedule(eps, 0.95),
    )
    _assert_traj(ours, theirs, rtol=1e-10)


@pytest.mark.oracle
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_matches_torch(amsgrad):
    ours = _run_ours(AdamW(learning_rate=0.05, weight_decay=0.004, epsilon=1e-3, amsgrad=amsgrad))
    theirs = _run_torch(
        lambda torch, p: torch.optim.AdamW(
            p,
            lr=0.05,
            weight_decay=0.004,
            betas=(0.9, 0.999),
            eps=1e-3,
            amsgrad=amsgrad,
            foreach=False,
        ),
        before_step=_torch_eps_schedule(1e-3, 0.999),
    )
    _assert_traj(ours, theirs, rtol=1e-10)


@pytest.mark.oracle
def test_adam_exponential_decay_matches_torch_exponential_lr():
    # ExponentialDecay(lr0, decay_steps=1, rate) at iterations t is lr0 * rate**t, PyTorch's
    # ExponentialLR stepped after every optimizer step gives the same sequence; Adam's state
    # does not contain the rate, so the two optimizers compute the same function.
    ours = _run_ours(Adam(learning_rate=ExponentialDecay(0.05, 1, 0.7), epsilon=1e-7))
    theirs = _run_torch(
        lambda torch, p: torch.optim.Adam(p, lr=0.05, eps=1e-7, foreach=False),
        before_step=_torch_eps_schedule(1e-7, 0.999),
        scheduler=lambda torch, opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.7),
    )
    _assert_traj(ours, theirs, rtol=1e-10)


@pytest.mark.oracle
def test_sgd_momentum_with_changing_rate_differs_from_torch_as_documented():
    # Keras keeps lr inside the momentum buffer; PyTorch multiplies the buffer by the current
    # lr. With a schedule the two differ from the second step on.
    sched = PiecewiseConstantDecay([0], [0.3, 0.03])
    ours = _run_ours(SGD(learning_rate=sched, momentum=0.9), steps=3)
    theirs = _run_torch(
        lambda torch, p: torch.optim.SGD(p, lr=0.3, momentum=0.9, foreach=False),
        steps=3,
        scheduler=lambda torch, opt: torch.optim.lr_scheduler.MultiplicativeLR(
            opt, lambda epoch: 0.1
        ),
    )
    np.testing.assert_allclose(ours[0]["W"], theirs[0]["W"], rtol=1e-12)
    assert not np.allclose(ours[1]["W"], theirs[1]["W"], rtol=1e-6)
    # the Keras rule by hand for the second step
    p = {"W": W0.copy(), "b": B0.copy()}
    g1 = _grads(p)
    m = {k: -0.3 * g1[k] for k in p}
    p = {k: p[k] + m[k] for k in p}
    g2 = _grads(p)
    m = {k: 0.9 * m[k] - 0.03 * g2[k] for k in p}
    np.testing.assert_allclose(ours[1]["W"], p["W"] + m["W"], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Keras golden values (keras/src/optimizers/*_test.py) and hand-computed Keras formulas
# ---------------------------------------------------------------------------------------------
def _golden_run(opt, dtype=np.float32):
    x = {"x": np.ones(10, dtype=dtype)}
    grads = np.arange(0.1, 1.1, 0.1)[:10]
    opt.apply(x, {"x": np.full(10, 0.01)})
    out = []
    for _ in range(5):
        out.append(x["x"].copy())
        opt.apply(x, {"x": grads})
    return np.array(out)


def test_keras_golden_sgd_adam_rmsprop_adagrad_adamw():
    np.testing.assert_allclose(
        _golden_run(SGD(nesterov=True))[:, [0, 9]],
        [[0.9999, 0.9999], [0.9989, 0.9899], [0.9979, 0.9799], [0.9969, 0.9699], [0.9959, 0.9599]],
        atol=5e-4,
    )
    np.testing.assert_allclose(
        _golden_run(Adam(amsgrad=True))[:, 0], [0.999, 0.9982, 0.9974, 0.9965, 0.9955], atol=5e-4
    )
    np.testing.assert_allclose(
        _golden_run(RMSprop(centered=True))[:, 0],
        [0.9967, 0.9933, 0.9908, 0.9885, 0.9864],
        atol=5e-4,
    )
    np.testing.assert_allclose(
        _golden_run(Adagrad(learning_rate=0.2, initial_accumulator_value=0.3, epsilon=1e-6))[
            :, [0, 4, 9]
        ],
        [
            [0.9963, 0.9963, 0.9963],
            [0.9604, 0.8615, 0.8209],
            [0.9251, 0.7497, 0.6891],
            [0.8903, 0.6521, 0.579],
            [0.856, 0.5644, 0.4825],
        ],
        atol=5e-4,
    )
    np.testing.assert_allclose(
        _golden_run(AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2))[:, [0, 9]],
        [[0.4998, 0.4998], [0.2486, 0.2382], [0.1223, 0.1003], [0.0586, 0.0258], [0.0263, -0.0159]],
        atol=5e-4,
    )


@pytest.mark.parametrize(
    "opt, expected",
    [
        (SGD(learning_rate=0.5), [0.5, -1.0, -0.5, 3.0]),
        (Adam(learning_rate=0.5), [0.5, 1.5, 2.5, 3.5]),
        (RMSprop(learning_rate=0.5), [-0.5811, 0.4189, 1.4189, 2.4189]),
        (Adagrad(learning_rate=0.5), [0.5233, 1.5007, 2.5005, 3.5061]),
        (AdamW(learning_rate=0.5), [0.4980, 1.4960, 2.494, 3.492]),
    ],
    ids=["sgd", "adam", "rmsprop", "adagrad", "adamw"],
)
def test_keras_golden_single_step(opt, expected):
    p = {"v": np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)}
    opt.apply(p, {"v": np.array([1.0, 6.0, 7.0, 2.0])})
    np.testing.assert_allclose(p["v"], expected, atol=1e-4)


@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop, Adagrad, AdamW])
def test_keras_golden_weight_decay_and_exclusion(cls):
    var1 = np.array(2.0)
    var2 = np.array(2.0)
    zero = np.array(0.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply({"var1": var1}, {"var1": zero})
    opt = cls(learning_rate=1.0, weight_decay=0.004)
    opt.exclude_from_weight_decay(var_names=["exclude"])
    opt.apply({"var1": var1, "exclude_me": var2}, {"var1": zero, "exclude_me": zero})
    cls(learning_rate=1.0, weight_decay=0.004).apply({"var1": var1}, {"var1": zero})
    assert float(var1) == pytest.approx(1.9760959, abs=1e-6)  # 2 * 0.996**3
    assert float(var2) == 2.0


def test_keras_doc_example_rmsprop():
    # keras.optimizers.RMSprop docstring: loss = var1**2 / 2 from 10.0 -> 9.683772
    var = {"var1": np.array(10.0, dtype=np.float32)}
    RMSprop(learning_rate=0.1).apply(var, {"var1": var["var1"].copy()})
    assert float(var["var1"]) == pytest.approx(9.683772, abs=1e-6)


G1, G2, G3 = 0.5, -0.2, 0.3  # the gradients of three steps
P0 = 1.5


def _three_steps(opt):
    p = {"p": np.array([P0])}
    for g in (G1, G2, G3):
        opt.apply(p, {"p": np.array([g])})
    return float(p["p"][0])


def test_hand_sgd_defaults():
    # lr 0.01, no momentum
    assert _three_steps(SGD()) == pytest.approx(P0 - 0.01 * (G1 + G2 + G3), rel=1e-15)


def test_hand_sgd_momentum_and_nesterov():
    lr, mu = 0.01, 0.9
    m1 = -lr * G1
    m2 = mu * m1 - lr * G2
    m3 = mu * m2 - lr * G3
    assert _three_steps(SGD(momentum=mu)) == pytest.approx(P0 + m1 + m2 + m3, rel=1e-14)
    nest = P0 + (mu * m1 - lr * G1) + (mu * m2 - lr * G2) + (mu * m3 - lr * G3)
    assert _three_steps(SGD(momentum=mu, nesterov=True)) == pytest.approx(nest, rel=1e-14)


def test_hand_rmsprop_defaults():
    lr, rho, eps = 0.001, 0.9, 1e-7
    p, v = P0, 0.0
    for g in (G1, G2, G3):
        v = rho * v + (1 - rho) * g * g
        p -= lr * g / math.sqrt(v + eps)
    assert _three_steps(RMSprop()) == pytest.approx(p, rel=1e-14)


def test_hand_rmsprop_centered_momentum():
    lr, rho, mu, eps = 0.001, 0.9, 0.5, 1e-7
    p, v, a, mom = P0, 0.0, 0.0, 0.0
    for g in (G1, G2, G3):
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        mom = mu * mom + lr * g / math.sqrt(v - a * a + eps)
        p -= mom
    assert _three_steps(RMSprop(momentum=mu, centered=True)) == pytest.approx(p, rel=1e-14)


def test_hand_adagrad_defaults():
    lr, eps = 0.001, 1e-7
    p, acc = P0, 0.1
    for g in (G1, G2, G3):
        acc += g * g
        p -= lr * g / math.sqrt(acc + eps)
    assert _three_steps(Adagrad()) == pytest.approx(p, rel=1e-14)


def _hand_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, wd=0.0, amsgrad=False):
    p, m, v, vhat = P0, 0.0, 0.0, 0.0
    for t, g in enumerate((G1, G2, G3), start=1):
        p -= p * wd * lr
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        vhat = max(vhat, v)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        p -= m * alpha / (math.sqrt(vhat if amsgrad else v) + eps)
    return p


def test_hand_adam_defaults():
    assert _three_steps(Adam()) == pytest.approx(_hand_adam(), rel=1e-14)
    assert _three_steps(Adam(amsgrad=True)) == pytest.approx(_hand_adam(amsgrad=True), rel=1e-14)


def test_hand_adamw_defaults():
    opt = AdamW()
    assert opt.weight_decay == 0.004
    assert _three_steps(opt) == pytest.approx(_hand_adam(wd=0.004), rel=1e-14)


def test_keras_defaults():
    assert (SGD().learning_rate, SGD().momentum, SGD().nesterov) == (0.01, 0.0, False)
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (
        0.001,
        0.9,
        0.0,
        1e-7,
        False,
    )
    a = Adagrad()
    assert (a.learning_rate, a.initial_accumulator_value, a.epsilon) == (0.001, 0.1, 1e-7)
    for cls in (Adam, AdamW):
        o = cls()
        assert (o.learning_rate, o.beta_1, o.beta_2, o.epsilon, o.amsgrad) == (
            0.001,
            0.9,
            0.999,
            1e-7,
            False,
        )
    assert Adam().weight_decay is None and AdamW().weight_decay == 0.004
    assert [SGD().name, RMSprop().name, Adagrad().name, Adam().name, AdamW().name] == [
        "SGD",
        "rmsprop",
        "adagrad",
        "adam",
        "adamw",
    ]


# ---------------------------------------------------------------------------------------------
# clipping
# ---------------------------------------------------------------------------------------------
def test_clip_by_norm_per_variable():
    grads = {"a": np.array([100.0, 100.0]), "b": np.array([0.3, 0.4])}
    out = clip_gradients(grads, clipnorm=1.0)
    np.testing.assert_allclose(out["a"], [2**0.5 / 2, 2**0.5 / 2])
    np.testing.assert_array_equal(out["b"], grads["b"])  # norm 0.5 <= 1: unchanged
    assert grads["a"][0] == 100.0  # inputs untouched


def test_clip_by_global_norm():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]]), None]
    assert global_norm(grads) == pytest.approx(5.0)
    out = clip_gradients(grads, global_clipnorm=1.0)
    np.testing.assert_allclose(out[0], [0.6, 0.0])
    np.testing.assert_allclose(out[1], [[0.0], [0.8]])
    assert out[2] is None
    same = clip_gradients(grads, global_clipnorm=10.0)
    np.testing.assert_array_equal(same[0], grads[0])
    nan = clip_gradients([np.array([np.inf, 1.0]), np.array([1.0])], global_clipnorm=1.0)
    assert np.isnan(nan[1]).all()  # a non-finite global norm gives NaN (Keras)


def test_clip_by_value():
    out = clip_gradients({"a": np.array([-100.0, 0.5, 100.0])}, clipvalue=1.0)
    np.testing.assert_array_equal(out["a"], [-1.0, 0.5, 1.0])


def test_clipping_applied_by_apply():
    p = {"a": np.zeros(2), "b": np.zeros(2)}
    SGD(learning_rate=1.0, global_clipnorm=1.0).apply(
        p, {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}
    )
    np.testing.assert_allclose(p["a"], [-0.6, 0.0])
    np.testing.assert_allclose(p["b"], [0.0, -0.8])
    p = {"a": np.zeros(2)}
    SGD(learning_rate=1.0, clipvalue=0.5).apply(p, {"a": np.array([3.0, -0.1])})
    np.testing.assert_allclose(p["a"], [-0.5, 0.1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"clipnorm": 1.0, "clipvalue": 1.0},
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
        {"clipvalue": 1.0, "global_clipnorm": 1.0},
    ],
)
def test_clip_modes_are_mutually_exclusive(kwargs):
    with pytest.raises(
        ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"
    ):
        Adam(**kwargs)
    with pytest.raises(ValueError, match="Only one of"):
        clip_gradients([np.ones(2)], **kwargs)


# ---------------------------------------------------------------------------------------------
# learning rate and schedules
# ---------------------------------------------------------------------------------------------
def test_schedules_values():
    e = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert e(0) == 0.1 and e(10) == pytest.approx(0.05) and e(5) == pytest.approx(0.1 * 0.5**0.5)
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [s(9), s(10), s(25)] == pytest.approx([0.1, 0.05, 0.025])
    pw = PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1])
    assert [pw(t) for t in range(9)] == [1.0] * 4 + [0.5] * 3 + [0.1] * 2
    st = StepDecay(0.2, step_size=3, factor=0.1)
    assert [st(t) for t in (0, 2, 3, 6)] == pytest.approx([0.2, 0.2, 0.02, 0.002])
    with pytest.raises(ValueError, match="decay_steps"):
        ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        PiecewiseConstantDecay([1, 2], [1.0])


def test_schedule_is_evaluated_at_iterations_before_the_step():
    rates = []

    def f(step):
        rates.append(step)
        return 0.1 / (step + 1)

    opt = SGD(learning_rate=f)
    p = {"p": np.array([0.0])}
    for _ in range(3):
        opt.apply(p, {"p": np.array([1.0])})
    assert rates == [0, 1, 2]
    assert p["p"][0] == pytest.approx(-(0.1 + 0.05 + 0.1 / 3))
    assert opt.learning_rate == pytest.approx(0.1 / 4)  # the rate the next step will use
    assert opt.iterations == 3


def test_learning_rate_property():
    opt = Adam(learning_rate=0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and isinstance(opt.learning_rate, float)
    opt.learning_rate = StepDecay(1.0, 1, 0.5)
    assert opt.learning_rate == 1.0
    with pytest.raises(TypeError, match="cannot be set to a float"):
        opt.learning_rate = 0.1
    with pytest.raises(ValueError, match="learning_rate"):
        Adam(learning_rate="fast")


# ---------------------------------------------------------------------------------------------
# state, dtype, in-place semantics
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        lambda: RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
        lambda: Adagrad(learning_rate=0.1),
        lambda: Adam(learning_rate=0.01, amsgrad=True),
        lambda: AdamW(learning_rate=ExponentialDecay(0.01, 3, 0.5)),
    ],
    ids=["sgd", "rmsprop", "adagrad", "adam", "adamw"],
)
def test_state_dict_round_trip_gives_identical_steps(make):
    ref = make()
    params = {"W": W0.copy(), "b": B0.copy()}
    for _ in range(4):
        ref.apply(params, _grads(params))
    state = ref.state_dict()
    json.dumps({k: v.tolist() for k, v in state.items()})  # plain arrays
    assert int(state["iterations"]) == 4
    resumed = make()
    resumed.load_state_dict(state)
    p2 = {k: v.copy() for k, v in params.items()}
    for _ in range(4):
        ref.apply(params, _grads(params))
        resumed.apply(p2, _grads(p2))
    for k in params:
        np.testing.assert_array_equal(params[k], p2[k])
    # mutating the dict afterwards does not touch the optimizer
    state2 = resumed.state_dict()
    for v in state2.values():
        v[...] = 0
    assert resumed.iterations == 8


def test_state_dict_names():
    opt = Adam(amsgrad=True)
    params = {"layers.0.cell.weight_ih": np.zeros((2, 3)), "layers.0.cell.bias_ih": np.zeros(3)}
    opt.apply(params, {k: np.ones_like(v) for k, v in params.items()})
    keys = set(opt.state_dict())
    assert keys == {
        "iterations",
        "learning_rate",
        "m/layers.0.cell.weight_ih",
        "m/layers.0.cell.bias_ih",
        "v/layers.0.cell.weight_ih",
        "v/layers.0.cell.bias_ih",
        "v_hat/layers.0.cell.weight_ih",
        "v_hat/layers.0.cell.bias_ih",
    }
    with pytest.raises(ValueError, match="unexpected optimizer state entry 'momentum/x'"):
        Adam().load_state_dict({"iterations": np.array(1), "momentum/x": np.zeros(2)})
    with pytest.raises(ValueError, match="'iterations'"):
        Adam().load_state_dict({"m/x": np.zeros(2)})


def test_constant_learning_rate_is_restored():
    opt = SGD(learning_rate=0.1)
    opt.learning_rate = 0.025  # e.g. ReduceLROnPlateau
    fresh = SGD(learning_rate=0.1)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.learning_rate == 0.025


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam, AdamW])
def test_float32_stays_float32_in_place(cls):
    kwargs = {"momentum": 0.9} if cls in (SGD, RMSprop) else {}
    opt = cls(learning_rate=ExponentialDecay(0.01, 2, 0.9), clipnorm=1.0, **kwargs)
    w = np.ones((3, 2), dtype=np.float32)
    params = {"w": w}
    for _ in range(3):
        opt.apply(params, {"w": np.full((3, 2), 0.5, dtype=np.float64)})
    assert params["w"] is w and w.dtype == np.float32
    assert not np.allclose(w, 1.0)
    for key, value in opt.state_dict().items():
        if "/" in key:
            assert value.dtype == np.float32, key


def test_apply_validation():
    opt = SGD()
    p = {"a": np.zeros(2), "b": np.zeros(3)}
    with pytest.raises(ValueError, match="unknown parameters \\['c'\\]"):
        opt.apply(p, {"c": np.zeros(2)})
    with pytest.raises(ValueError, match="gradient for 'a' has shape \\(3,\\)"):
        opt.apply(p, {"a": np.zeros(3)})
    with pytest.raises(TypeError, match="float NumPy array"):
        opt.apply({"a": [0.0, 1.0]}, {"a": np.zeros(2)})
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply(p, {"a": None})
    opt.apply(p, {})  # no-op, as Keras
    assert opt.iterations == 0
    opt.apply(p, {"a": np.ones(2)})  # 'b' has no gradient: untouched
    np.testing.assert_array_equal(p["b"], 0.0)
    np.testing.assert_allclose(p["a"], -0.01)
    assert opt.iterations == 1


def test_hyperparameter_validation():
    with pytest.raises(ValueError, match="`momentum` must be in"):
        SGD(momentum=1.5)
    with pytest.raises(ValueError, match="`rho` must be in"):
        RMSprop(rho=1.1)
    with pytest.raises(ValueError, match="must be positive"):
        RMSprop(epsilon=0)
    with pytest.raises(ValueError, match="weight_decay=None"):
        AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1"):
        Adam(beta_1=1.0)


# ---------------------------------------------------------------------------------------------
# config and lookup
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "opt",
    [
        SGD(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
        RMSprop(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
        Adagrad(learning_rate=0.5, initial_accumulator_value=0.2, epsilon=1e-5, clipvalue=2.0),
        Adam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
        AdamW(
            learning_rate=ExponentialDecay(0.1, 5, 0.5, staircase=True),
            weight_decay=0.008,
            global_clipnorm=1.0,
            name="opt",
        ),
    ],
    ids=["sgd", "rmsprop", "adagrad", "adam", "adamw"],
)
def test_config_round_trip(opt):
    data = json.loads(json.dumps(serialize(opt)))
    rebuilt = deserialize(data)
    assert type(rebuilt) is type(opt)
    assert rebuilt.get_config() == opt.get_config()
    again = optimizers.get(data)
    assert again.get_config() == opt.get_config()
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()


def test_lambda_schedule_cannot_be_serialised():
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        SGD(learning_rate=lambda step: 0.1).get_config()


def test_get():
    for name, cls in [
        ("sgd", SGD),
        ("RMSprop", RMSprop),
        ("ADAGRAD", Adagrad),
        ("adam", Adam),
        ("AdamW", AdamW),
    ]:
        assert type(optimizers.get(name)) is cls
    opt = Adam()
    assert optimizers.get(opt) is opt
    assert (
        optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.2}}).learning_rate == 0.2
    )
    with pytest.raises(ValueError) as err:
        optimizers.get("adamax")
    msg = str(err.value)
    assert "'adamax'" in msg
    for name in ("sgd", "rmsprop", "adagrad", "adam", "adamw"):
        assert name in msg
    with pytest.raises(TypeError):
        optimizers.get(3)


def test_load_state_dict_accepts_size_one_arrays():
    # a 0-d array written through np.ascontiguousarray comes back with shape (1,)
    opt = SGD(learning_rate=0.1, momentum=0.9)
    p = {"w": np.ones(2)}
    opt.apply(p, {"w": np.ones(2)})
    state = {k: np.ascontiguousarray(v) for k, v in opt.state_dict().items()}
    assert state["iterations"].shape == (1,)
    fresh = SGD(learning_rate=0.5, momentum=0.9)
    fresh.load_state_dict(state)
    assert fresh.iterations == 1 and fresh.learning_rate == 0.1
    with pytest.raises(ValueError, match="'iterations'"):
        fresh.load_state_dict({"iterations": np.array([1, 2])})
    with pytest.raises(ValueError, match="'iterations'"):
        fresh.load_state_dict({"iterations": np.array(1.5)})


def test_slot_shape_mismatch_is_reported_before_any_update():
    opt = Adam()
    opt.load_state_dict({"iterations": np.array(3), "m/w": np.zeros(3), "v/w": np.zeros(3)})
    p = {"a": np.ones(2), "w": np.ones(2)}
    with pytest.raises(ValueError, match="slot 'm/w' has shape \\(3,\\)"):
        opt.apply(p, {"a": np.ones(2), "w": np.ones(2)})
    np.testing.assert_array_equal(p["a"], 1.0)
    assert opt.iterations == 3
