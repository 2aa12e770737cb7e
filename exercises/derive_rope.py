"""Derive RoPE from the one property it is built for, in 2-D complex form (RoFormer section 3.4.1).

RoFormer (Su et al. 2021, arXiv 2104.09864) asks for an encoding f(x, m) of a vector x at position m
whose scores depend on the offset only:

    <f(q, m), f(k, n)> = g(q, k, m - n)        for all q, k, m, n,        f(x, 0) = x.

In 2-D a vector (x0, x1) is the complex number x0 + 1j * x1, and the dot product is the real part of
one number times the conjugate of the other: <a, b> = Re(a * conj(b)). RoFormer asks the requirement
of the complex product f(q, m) * conj(f(k, n)) itself, whose real part is the score. Write f(x, m) in
polar form, R(x, m) * exp(1j * Theta(x, m)). The derivation takes four steps, and each function below
measures one of them on a candidate encoding f, a Python function f(z, m) of a complex tensor z and an
integer m (for instance `lambda z, m: z * cmath.exp(1j * m * 0.3)`):

1. The requirement as a test: shifting both positions by the same amount must leave the score as it is
   (`requirement_gap`; it is 0 for every q, k, m, n, shift when the requirement holds).
2. Moduli: the requirement at m = n, with f(x, 0) = x, gives R(q, m) R(k, m) = |q| |k|: the encoding
   keeps every vector's length, R(x, m) = |x| (`polar_parts`, the first part).
3. Phases: at m = n the phases give Theta(q, m) - arg q = Theta(k, m) - arg k, so
   phi(m) = Theta(x, m) - arg x is the same for every vector: it depends on the position only
   (`polar_parts`, the second part).
4. Steps: the requirement at n = m + 1 makes phi(m + 1) - phi(m) the same for every m: phi is an
   arithmetic progression, phi(m) = m * theta, with phi(0) = 0 (`phase_increments`).

So f(x, m) = x * exp(1j * m * theta) (`rope_2d`): a rotation of x by the angle m * theta, the 2 x 2 matrix
[[cos, -sin], [sin, cos]] of that angle in real form (`rotation_matrix`). In d dimensions RoPE applies
this to d/2 pairs, each with its own theta_i = base ** (-2i / d).

Complex tensors are complex128 and real results float64 throughout; no function changes its inputs.
"""

from __future__ import annotations

import math

import torch


def complex_score(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The dot product of 2-D vectors written as complex numbers: Re(q * conj(k)), float64.

    q, k: complex tensors (q = q0 + 1j * q1 stands for the vector (q0, q1)), broadcast together;
    returns q0 * k0 + q1 * k1 for each element.
    """
    # TODO: the real part of q times the conjugate of k, as float64.
    raise NotImplementedError("write your solution here")


def requirement_gap(f, q: torch.Tensor, k: torch.Tensor, m: int, n: int, shift: int) -> torch.Tensor:
    """How far a candidate encoding f is from RoPE's requirement: float64, q and k broadcast together.

    |g(m, n) - g(m + shift, n + shift)| with g(m, n) = complex_score(f(q, m), f(k, n)): the change
    of the score when both positions move by the same shift. It is 0 for an encoding whose scores
    depend on m - n only. f(z, position) takes a complex tensor and an integer.
    """
    # TODO: score at (m, n), score at (m + shift, n + shift), absolute difference.
    raise NotImplementedError("write your solution here")


def polar_parts(f, z: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Steps 2 and 3 measured: (|f(z, m)|, phase f(z, m) relative to z), two float64 tensors of z's shape.

    The modulus is |f(z, m)| (RoPE keeps it at |z|). The phase is the angle from z to f(z, m),
    arg f(z, m) - arg z, wrapped into [-pi, pi] (RoPE gives m * theta, wrapped, for every z).
    The principal value, as torch.angle gives it. z: a complex tensor with no zero element.
    """
    # TODO: modulus with .abs(); the angle of f(z, m) * conj(z) is the wrapped phase difference.
    raise NotImplementedError("write your solution here")


def phase_increments(f, z: torch.Tensor, n_positions: int) -> torch.Tensor:
    """Step 4 measured: phi(m + 1) - phi(m) for m = 0 .. n_positions - 2.

    float64 [*z.shape, n_positions - 1]: the increments on a new last axis. phi(m) is the phase of
    f(z, m) relative to z (`polar_parts`); each increment is wrapped into [-pi, pi]. RoPE gives theta
    at every step. z: a complex tensor with no zero element. ValueError for n_positions < 2.
    """
    # TODO: ValueError; the angle of f(z, m + 1) * conj(f(z, m)) for each m, stacked on a last axis.
    raise NotImplementedError("write your solution here")


def rope_2d(z: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """The solution of the derivation: f(z, m) = z * exp(1j * m * theta), complex128.

    z: a complex128 tensor; positions: integers broadcastable with z (one position per element, or one
    for all). Returns the broadcast shape.
    """
    # TODO: exp(1j * m * theta) from float64 angles (torch.polar), times z.
    raise NotImplementedError("write your solution here")


def rotation_matrix(m: int, theta: float) -> torch.Tensor:
    """The same map as a real matrix: float64 [2, 2] that sends the column (x0, x1) to f(x0 + 1j x1, m).

    [[cos(m theta), -sin(m theta)], [sin(m theta), cos(m theta)]] (RoFormer eq. 13 for one pair).
    """
    # TODO: the angle m * theta in float64; the rotation matrix.
    raise NotImplementedError("write your solution here")
