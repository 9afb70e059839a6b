"""Optimal one-to-one matching of two annotation lists by similarity (maximum total weight).

The similarity matrix of two labels is sparse (shapes of other categories or far apart score 0), so
the pairs with a positive score are split into connected components and each component is solved
exactly with the Hungarian algorithm; a component is usually one or two shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

_INF = float("inf")


def hungarian_max(weights: list[list[float]]) -> list[tuple[int, int]]:
    """Rows matched to columns so that the sum of ``weights`` is largest (rows ≤ or > columns).

    Classic O(n³) shortest augmenting path on costs ``-weight``; pairs of weight 0 may appear in
    the result and are for the caller to drop.
    """
    rows = len(weights)
    cols = len(weights[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    transposed = rows > cols
    if transposed:
        weights = [list(column) for column in zip(*weights, strict=True)]
        rows, cols = cols, rows
    # 1-based potentials u (rows), v (columns); way[j] = previous column on the augmenting path.
    u = [0.0] * (rows + 1)
    v = [0.0] * (cols + 1)
    owner = [0] * (cols + 1)  # owner[j] = row matched to column j (0: none)
    way = [0] * (cols + 1)
    for row in range(1, rows + 1):
        owner[0] = row
        column = 0
        best = [_INF] * (cols + 1)
        used = [False] * (cols + 1)
        while True:
            used[column] = True
            current = owner[column]
            delta = _INF
            next_column = 0
            for j in range(1, cols + 1):
                if used[j]:
                    continue
                reduced = -weights[current - 1][j - 1] - u[current] - v[j]
                if reduced < best[j]:
                    best[j] = reduced
                    way[j] = column
                if best[j] < delta:
                    delta = best[j]
                    next_column = j
            for j in range(cols + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    best[j] -= delta
            column = next_column
            if owner[column] == 0:
                break
        while column:
            previous = way[column]
            owner[column] = owner[previous]
            column = previous
    pairs = [(owner[j] - 1, j - 1) for j in range(1, cols + 1) if owner[j]]
    return sorted((j, i) for i, j in pairs) if transposed else sorted(pairs)


def best_matching(scores: Mapping[tuple[int, int], float], tie: float = 0.0) -> list[tuple[int, int, float]]:
    """Optimal matching over the positive entries of a sparse ``{(i, j): score}``; returns (i, j, score).

    ``tie`` is added to every contested pair's weight, so that among matchings of equal total the one
    with more pairs wins (and the choice does not depend on which side is which)."""
    positive = [(pair, score) for pair, score in scores.items() if score > 0]
    lefts: dict[int, int] = {}
    rights: dict[int, int] = {}
    for (i, j), _score in positive:
        lefts[i] = lefts.get(i, 0) + 1
        rights[j] = rights.get(j, 0) + 1
    matched = []
    contested = {}
    for (i, j), score in positive:
        if lefts[i] == 1 and rights[j] == 1:
            matched.append((i, j, score))  # no other shape competes for either side
        else:
            contested[(i, j)] = score
    if not contested:
        return sorted(matched)
    for left, right in _components(contested):
        grid = [[contested[(i, j)] + tie if (i, j) in contested else 0.0 for j in right] for i in left]
        for r, c in hungarian_max(grid):
            if grid[r][c] > 0:
                matched.append((left[r], right[c], contested[(left[r], right[c])]))
    return sorted(matched)


def _components(pairs: Mapping[tuple[int, int], float]) -> list[tuple[list[int], list[int]]]:
    """Connected components of the bipartite graph whose edges are ``pairs``."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, j in pairs:
        parent[find(("a", i))] = find(("b", j))
    groups: dict[tuple[str, int], tuple[set[int], set[int]]] = {}
    for side, index in list(parent):
        left, right = groups.setdefault(find((side, index)), (set(), set()))
        (left if side == "a" else right).add(index)
    return [(sorted(left), sorted(right)) for left, right in groups.values()]
