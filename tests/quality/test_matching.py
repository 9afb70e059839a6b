from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.quality.matching import best_matching, hungarian_max


def test_hungarian_beats_greedy():
    weights = [[0.6, 0.5], [0.55, 0.0]]
    assert hungarian_max(weights) == [(0, 1), (1, 0)]
    assert best_matching({(0, 0): 0.6, (0, 1): 0.5, (1, 0): 0.55}) == [(0, 1, 0.5), (1, 0, 0.55)]


def test_rectangular_matrices_and_zeros():
    assert hungarian_max([[0.1, 0.9, 0.3]]) == [(0, 1)]
    assert hungarian_max([[0.1], [0.9], [0.3]]) == [(1, 0)]
    assert best_matching({(0, 0): 0.0}) == []
    assert best_matching({}) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_best_matching_is_optimal(rows, cols, data):
    scores = {
        (i, j): data.draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0])) for i in range(rows) for j in range(cols)
    }
    found = best_matching(scores)
    assert len({i for i, _, _ in found}) == len(found) == len({j for _, j, _ in found})
    best = 0.0
    for perm in itertools.permutations(range(max(rows, cols)), min(rows, cols)):
        pairs = zip(range(rows), perm, strict=False) if rows <= cols else zip(perm, range(cols), strict=False)
        best = max(best, sum(scores.get(p, 0.0) for p in pairs))
    assert abs(sum(score for _, _, score in found) - best) < 1e-9
