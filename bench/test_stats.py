"""Tests of bench/stats.py against values worked out by hand or published.

Run: /usr/bin/python3 bench/test_stats.py (ctest: bench.stats).
"""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats  # noqa: E402


class KaplanMeier(unittest.TestCase):
    def test_censoring_shrinks_the_risk_set(self):
        # 4 at risk: event at 1 (S=3/4); censored at 2; 2 at risk: event at 3
        # (S=3/4*1/2=3/8); 1 at risk: event at 4 (S=0).
        curve = stats.kaplan_meier([(1, True), (2, False), (3, True), (4, True)])
        self.assertEqual(curve, [(0.0, 1.0), (1, 0.75), (3, 0.375), (4, 0.0)])
        self.assertEqual(stats.km_median([(1, True), (2, False), (3, True), (4, True)]), 3)

    def test_median_not_reached_within_budget(self):
        samples = [(5, True), (30, False), (30, False)]
        self.assertIsNone(stats.km_median(samples))

    def test_event_before_censoring_at_the_same_time(self):
        # The event at 2 sees both trials at risk: S = 1/2, median 2.
        self.assertEqual(stats.km_median([(2, False), (2, True)]), 2)


class MannWhitney(unittest.TestCase):
    def test_separated_samples(self):
        # SciPy 1.10 mannwhitneyu([1..5], [6..10], method="asymptotic"):
        # U = 0, p = 0.01219 (continuity-corrected normal approximation).
        u, p = stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(u, 0)
        self.assertAlmostEqual(p, 0.012186, places=5)

    def test_ties_at_the_budget(self):
        # Tie correction: sigma^2 = n1 n2 / 12 * ((n+1) - sum(t^3-t)/(n(n-1))).
        x = [1, 2, 30, 30]
        y = [30, 30, 30, 30]
        u, p = stats.mann_whitney(x, y)
        # Ranks: 1, 2, then six 30s at rank 5.5: R1 = 1 + 2 + 5.5 + 5.5 = 14.
        self.assertEqual(u, 14 - 10)
        var = 16 / 12 * (9 - (6 ** 3 - 6) / (8 * 7))
        z = (abs(4 - 8) - 0.5) / math.sqrt(var)
        self.assertAlmostEqual(p, math.erfc(z / math.sqrt(2)), places=12)

    def test_all_tied_is_p_one(self):
        self.assertEqual(stats.mann_whitney([30, 30], [30, 30])[1], 1.0)


class EffectSize(unittest.TestCase):
    def test_a12(self):
        self.assertEqual(stats.a12([1, 2], [3, 4]), 1.0)
        self.assertEqual(stats.a12([3, 4], [1, 2]), 0.0)
        self.assertEqual(stats.a12([1, 3], [1, 3]), 0.5)

    def test_median(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 2, 3]), 2.5)
        self.assertIsNone(stats.median([]))


if __name__ == "__main__":
    unittest.main()
