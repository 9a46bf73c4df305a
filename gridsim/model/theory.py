"""Closed-form results the simulator is held to (see docs/references.md).

* Erlang C: M/M/c with arrival rate λ, service rate μ, offered load a = λ/μ, ρ = a/c < 1:
  ``P(wait) = [aᶜ/c! · 1/(1−ρ)] / [Σ_{k<c} aᵏ/k! + aᶜ/c! · 1/(1−ρ)]``, ``Wq = P(wait)/(cμ − λ)``.
* Erlang B: the share of arrivals lost when all c servers are busy.
"""

from __future__ import annotations

import math

__all__ = ["erlang_b", "erlang_c"]


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """``(P(wait), Wq)`` of an M/M/c queue (Wq in the time unit of 1/λ)."""
    a = lam / mu
    rho = a / c
    if not 0 <= rho < 1:
        raise ValueError(f"unstable queue: rho = {rho}")
    top = a**c / math.factorial(c) / (1.0 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def erlang_b(a: float, c: int) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` (stable recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b
