"""The numpy engine: the fast layout of ``rnnlab.kernels.driver`` with NumPy ufuncs only.

Per step: one recurrent product into a preallocated buffer, in-place ufuncs with ``out=``, one
``tanh`` for all gates (sigmoid rows pre-scaled by 1/2), no temporaries, no per-step Python
containers. The backward pass computes every derivative factor that depends only on the forward
values (``i(1-i)``, ``1 - tanh(c)²``, ...) for all steps at once before the time loop, leaving
about ten small calls per step. Masked steps follow the reference formulas literally
(``dy*m``, ``dstate*m``, ``dprev + dstate*(1-m)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray

PRESCALE = True  # sigmoid-gate columns of P and W_hh pre-scaled by 1/2, b_hh folded into P


def project(P: Array, scale: Array, bias: Array) -> None:
    """``P = P * scale + bias``."""
    P *= scale
    P += bias


def pack_forward(w_t: Array, scale: Array | None, rows: int) -> Array:
    """``W_hh^T (H, G)`` as one contiguous matrix, columns multiplied by ``scale`` (the 1/2 of
    the sigmoid gates, see PRESCALE)."""
    out = np.empty(w_t.shape, dtype=w_t.dtype)
    if scale is None:
        out[...] = w_t
    else:
        np.multiply(w_t, scale, out=out)
    return out


def pack_backward(w: Array, rows: int) -> Array:
    """``W_hh (G, H)``, contiguous."""
    return np.ascontiguousarray(w)


def parallel_rows(rows: int, min_rows: int, fn: Any) -> None:
    """One block: NumPy's BLAS parallelises the products itself."""
    fn(0, rows)


def _finish_masked(q: Any, t: int, ip: int, io: int, t_prev: int) -> None:
    m = q.M[t][:, None]
    keep = ~m
    np.copyto(q.S[io], q.S[ip], where=keep)
    if q.kind == "lstm":
        np.copyto(q.C[io], q.C[ip], where=keep)
    prev = 0 if q.zero_out or t_prev < 0 else q.Y[t_prev]
    np.copyto(q.Y[t], np.where(m, q.S[io], prev))


def forward(q: Any) -> None:
    T, N, H, G = q.T, q.N, q.H, q.G
    P, S, W2T = q.P, q.S, q.WR
    rev = q.reverse
    dtype = P.dtype
    Z = np.empty((N, G), dtype=dtype)
    tmp = np.empty((N, H), dtype=dtype)
    tanh, mul, add, matmul = np.tanh, np.multiply, np.add, np.matmul
    if q.kind == "lstm":
        C, TC = q.C, q.TC
        mulv = np.full(G, 0.5, dtype=dtype)
        mulv[2 * H:3 * H] = 1.0
        addv = np.full(G, 0.5, dtype=dtype)
        addv[2 * H:3 * H] = 0.0
    t_prev = -1
    for i in range(T):
        t = T - 1 - i if rev else i
        ip, io = (t + 1, t) if rev else (t, t + 1)
        src = mul(S[ip], q.RM, out=q.HM) if q.has_rm else S[ip]
        pt = P[t]
        if q.kind == "lstm":
            matmul(src, W2T, out=Z)
            add(pt, Z, out=pt)
            tanh(pt, out=pt)
            mul(pt, mulv, out=pt)          # (tanh(z/2) + 1) / 2 on i, f, o; g unchanged
            add(pt, addv, out=pt)
            ig, fg, gg, og = pt[:, :H], pt[:, H:2 * H], pt[:, 2 * H:3 * H], pt[:, 3 * H:]
            c = C[io]
            mul(fg, C[ip], out=c)
            mul(ig, gg, out=tmp)
            c += tmp
            tc = TC[t]
            tanh(c, out=tc)
            mul(og, tc, out=S[io])
        elif q.kind == "gru":
            hp = q.HP
            matmul(src, W2T, out=hp)
            rz = pt[:, :2 * H]
            add(rz, hp[:, :2 * H], out=rz)
            tanh(rz, out=rz)
            rz += 1.0
            rz *= 0.5
            hn = q.HN[t]
            if q.bhn.shape[0] == H:
                add(hp[:, 2 * H:], q.bhn, out=hn)
            else:
                hn[...] = hp[:, 2 * H:]
            nn = pt[:, 2 * H:]
            mul(pt[:, :H], hn, out=tmp)
            add(nn, tmp, out=nn)
            tanh(nn, out=nn)
            h = S[io]
            np.subtract(S[ip], nn, out=h)
            mul(pt[:, H:2 * H], h, out=h)
            add(nn, h, out=h)              # n + z (h_prev - n)
        else:
            matmul(src, W2T, out=Z)
            add(pt, Z, out=pt)
            if q.act == 0:
                tanh(pt, out=S[io])
            elif q.act == 1:
                np.maximum(pt, 0, out=S[io])
            else:
                S[io] = pt
        if q.has_mask:
            _finish_masked(q, t, ip, io, t_prev)
        t_prev = t


def _factors(q: Any) -> dict[str, Array]:
    """Derivative factors of every step, from the forward values (vectorised over time)."""
    P, H, T = q.P, q.H, q.T
    one = P.dtype.type(1.0)
    if q.kind == "lstm":
        DA = np.subtract(one, P)
        DA *= P                                                           # i(1-i), f(1-f), o(1-o)
        g = P[..., 2 * H:3 * H]
        np.multiply(g, g, out=DA[..., 2 * H:3 * H])
        np.subtract(one, DA[..., 2 * H:3 * H], out=DA[..., 2 * H:3 * H])  # 1 - g²
        DT = np.multiply(q.TC, q.TC)
        np.subtract(one, DT, out=DT)                                      # 1 - tanh(c)²
        return {"DA": DA, "DT": DT}
    if q.kind == "gru":
        r, z, n = P[..., :H], P[..., H:2 * H], P[..., 2 * H:]
        prev = q.S[1:] if q.reverse else q.S[:T]
        DRZ = np.subtract(one, P[..., :2 * H])
        DRZ *= P[..., :2 * H]                                             # r(1-r), z(1-z)
        OMZ = np.subtract(one, z)
        DN = np.multiply(n, n)
        np.subtract(one, DN, out=DN)
        HMN = np.subtract(prev, n)
        return {"DRZ": DRZ, "OMZ": OMZ, "DN": DN, "HMN": HMN, "r": r}
    out = q.S[:T] if q.reverse else q.S[1:]
    if q.act == 0:
        D = np.multiply(out, out)
        np.subtract(one, D, out=D)
    elif q.act == 1:
        D = (out > 0).astype(P.dtype)
    else:
        D = None
    return {"D": D}


def backward(q: Any, W: Array, dY: Array, dZ: Array, ds: list[Array], lo: int, hi: int,
             dlo: int, dhi: int, acc: bool) -> None:
    T, N, H, G = q.T, q.N, q.H, q.G
    dtype = q.P.dtype
    f = _factors(q)
    mul, add, matmul = np.multiply, np.add, np.matmul
    rm = q.RM if q.has_rm else None
    DZS = np.empty((N, G), dtype=dtype)
    t1 = np.empty((N, H), dtype=dtype)
    zeros = np.zeros((N, H), dtype=dtype)
    carry: Array | None = None
    Mf = q.M.astype(dtype)[..., None] if q.has_mask else None
    for i in range(hi - 1, lo - 1, -1):
        t = T - 1 - i if q.reverse else i
        ip = t + 1 if q.reverse else t
        dy = dY[t] if dlo <= i < dhi else zeros
        if carry is not None:
            dy = dy + carry
        if Mf is not None:
            m = Mf[t]
            keep = 1.0 - m
            d_in = [d * m for d in ds]
            dy_in = dy * m
        else:
            d_in, dy_in = ds, dy
        dz = DZS if (acc or Mf is not None) else dZ[t]
        pt = q.P[t]
        if q.kind == "lstm":
            ig, fg, gg, og = pt[:, :H], pt[:, H:2 * H], pt[:, 2 * H:3 * H], pt[:, 3 * H:]
            tc = q.TC[t]
            dh = add(dy_in, d_in[0])
            dc = mul(dh, og, out=t1)
            dc *= f["DT"][t]
            add(d_in[1], dc, out=dc)
            mul(dc, gg, out=dz[:, :H])
            mul(dc, q.C[ip], out=dz[:, H:2 * H])
            mul(dc, ig, out=dz[:, 2 * H:3 * H])
            mul(dh, tc, out=dz[:, 3 * H:])
            dz *= f["DA"][t]
            dprev = [matmul(dz, W), mul(dc, fg)]
            if rm is not None:
                dprev[0] *= rm
        elif q.kind == "gru":
            dh = add(dy_in, d_in[0])
            dn = mul(dh, f["OMZ"][t])
            dn *= f["DN"][t]
            mul(dh, f["HMN"][t], out=dz[:, H:2 * H])
            mul(dn, q.HN[t], out=dz[:, :H])
            dz[:, :2 * H] *= f["DRZ"][t]
            dz[:, 2 * H:] = dn
            drec = dz.copy()
            drec[:, 2 * H:] *= f["r"][t]
            dhm = matmul(drec, W)
            if rm is not None:
                dhm *= rm
            dh_prev = mul(dh, pt[:, H:2 * H])
            dh_prev += dhm
            dprev = [dh_prev]
        else:
            x = add(dy_in, d_in[0], out=dz)
            if f["D"] is not None:
                x *= f["D"][t]
            dprev = [matmul(dz, W)]
            if rm is not None:
                dprev[0] *= rm
        if Mf is not None:
            for k, (a, d) in enumerate(zip(dprev, ds)):
                dprev[k] = a + d * keep
            carry = None if q.zero_out else dy * keep
        for k, a in enumerate(dprev):
            ds[k][...] = a
        if dz is DZS:
            if acc:
                dZ[t] += DZS
            else:
                dZ[t] = DZS
