"""Statistics of the bug-finding benchmark, in plain Python (no SciPy).

Each function takes time-to-detection samples of one (bug, arm): a list of
(time, detected) pairs, where detected=False means the trial was censored at
`time` (the budget ran out, or the trial stopped on another finding first).

- kaplan_meier(samples): the survival curve S(t) of "not yet detected".
- km_median(samples): the smallest t with S(t) <= 0.5, or None when the curve
  never gets there within the budget (reported as "> B").
- mann_whitney(x, y): two-sided Mann-Whitney U test, normal approximation
  with tie correction (Arcuri & Briand's choice for randomised algorithms;
  benchmark-method.md §2, §4). Censored trials enter at the budget, so they
  tie with each other and rank above every detection: the test compares
  "detected earlier" between arms, which is all a censored sample supports.
- a12(x, y): Vargha-Delaney A12, P(X < Y) + 0.5 P(X = Y) on times, so
  A12 > 0.5 means arm x detects earlier.
"""

import math


def kaplan_meier(samples):
    """[(t, S(t))] at each detection time, starting with (0, 1.0)."""
    curve = [(0.0, 1.0)]
    at_risk = len(samples)
    surv = 1.0
    ordered = sorted(samples, key=lambda s: (s[0], not s[1]))  # events before censoring at ties
    i = 0
    while i < len(ordered):
        t = ordered[i][0]
        events = censored = 0
        while i < len(ordered) and ordered[i][0] == t:
            if ordered[i][1]:
                events += 1
            else:
                censored += 1
            i += 1
        if events:
            surv *= 1.0 - events / at_risk
            curve.append((t, surv))
        at_risk -= events + censored
    return curve


def km_median(samples):
    for t, s in kaplan_meier(samples):
        if s <= 0.5:
            return t
    return None


def _ranks(values):
    """Average ranks (1-based) and the tie-correction term sum(t^3 - t)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    return ranks, ties


def mann_whitney(x, y):
    """(U of x, two-sided p). p is 1.0 when every value ties."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney needs two non-empty samples")
    ranks, ties = _ranks(list(x) + list(y))
    r1 = sum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    mean = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return u1, 1.0
    # Continuity correction of 0.5 towards the mean.
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    z = max(z, 0.0)
    p = math.erfc(z / math.sqrt(2.0))
    return u1, min(1.0, p)


def a12(x, y):
    """P(x < y) + 0.5 P(x == y): > 0.5 when x's times are smaller."""
    wins = 0.0
    for a in x:
        for b in y:
            if a < b:
                wins += 1.0
            elif a == b:
                wins += 0.5
    return wins / (len(x) * len(y))


def median(values):
    v = sorted(values)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2.0
