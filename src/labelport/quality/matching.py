"""Optimal one-to-one matching of two annotation lists by similarity (maximum total weight).

The similarity matrix of two labels is sparse (shapes of other categories or far apart score 0), so
the pairs with a positive score are split into connected components and each component is solved
exactly: a pair without competition is matched as it is, one shape against several takes the best
of them, larger components go through the Hungarian algorithm.
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
    lefts: dict[int, list[int]] = {}  # i → its js, and j → its is, over the positive pairs
    rights: dict[int, list[int]] = {}
    for (i, j), score in scores.items():
        if score > 0:
            lefts.setdefault(i, []).append(j)
            rights.setdefault(j, []).append(i)
    matched = []
    contested = False
    for i, js in lefts.items():
        if len(js) == 1 and len(rights[js[0]]) == 1:
            matched.append((i, js[0], scores[(i, js[0])]))  # no other shape competes for either side
        else:
            contested = True
    if not contested:
        return sorted(matched)
    for left, right in _components(lefts, rights):
        if len(left) == 1 or len(right) == 1:
            # One shape against several: the heaviest pair, the first of equals in index order, which
            # is what the Hungarian algorithm below picks for one row (and the same floats).
            pairs = [(i, j) for i in left for j in right]
            best = pairs[0]
            for pair in pairs[1:]:
                if scores[pair] + tie > scores[best] + tie:
                    best = pair
            matched.append((*best, scores[best]))
            continue
        grid = [[scores[(i, j)] + tie if j in lefts[i] else 0.0 for j in right] for i in left]
        for r, c in hungarian_max(grid):
            if grid[r][c] > 0:
                matched.append((left[r], right[c], scores[(left[r], right[c])]))
    return sorted(matched)


def _components(lefts: Mapping[int, list[int]], rights: Mapping[int, list[int]]) -> list[tuple[list[int], list[int]]]:
    """The connected components, of two shapes or more, of the bipartite graph whose edges are
    ``lefts`` (i → js) and ``rights`` (j → is): each as its sorted is and js."""
    components = []
    seen: set[int] = set()
    for start, js in lefts.items():
        if start in seen or (len(js) == 1 and len(rights[js[0]]) == 1):
            continue  # done, or a pair without competition (matched directly)
        seen.add(start)
        left, right, stack = [start], set(), [start]
        while stack:
            for j in lefts[stack.pop()]:
                if j not in right:
                    right.add(j)
                    for i in rights[j]:
                        if i not in seen:
                            seen.add(i)
                            left.append(i)
                            stack.append(i)
        components.append((sorted(left), sorted(right)))
    return components
