"""Helpers shared by the benchmarks: deterministic data, timing, and table printing."""

from __future__ import annotations

import platform
import random
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

BOX_INTERFACE: dict[str, Any] = {
    "jobs": {
        "JOB_0": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "required": 1,
            "isChild": False,
            "instruction": "Objects",
            "content": {
                "input": "radio",
                "categories": {f"CLASS_{i}": {"name": f"Class {i}", "children": []} for i in range(5)},
            },
        },
        "CLASSIF": {
            "mlTask": "CLASSIFICATION",
            "required": 0,
            "isChild": False,
            "instruction": "Scene",
            "content": {"input": "radio", "categories": {"DAY": {"name": "Day"}, "NIGHT": {"name": "Night"}}},
        },
    }
}


def box_response(
    rng: random.Random, boxes: int, prefix: str, jitter: float = 0.0, base: list[tuple[float, ...]] | None = None
) -> dict[str, Any]:
    """A label with ``boxes`` rectangles (optionally jittered copies of ``base``) and a classification."""
    annotations = []
    for index in range(boxes):
        if base is not None:
            x0, y0, x1, y1 = (min(1.0, max(0.0, v + rng.uniform(-jitter, jitter))) for v in base[index])
        else:
            x0, y0 = rng.uniform(0, 0.8), rng.uniform(0, 0.8)
            x1, y1 = x0 + rng.uniform(0.02, 0.2), y0 + rng.uniform(0.02, 0.2)
        annotations.append(
            {
                "mid": f"{prefix}-{index}",
                "type": "rectangle",
                "categories": [{"name": f"CLASS_{index % 5}"}],
                "boundingPoly": [
                    {
                        "normalizedVertices": [
                            {"x": x0, "y": y1},
                            {"x": x0, "y": y0},
                            {"x": x1, "y": y0},
                            {"x": x1, "y": y1},
                        ]
                    }
                ],
                "children": {},
            }
        )
    return {"JOB_0": {"annotations": annotations}, "CLASSIF": {"categories": [{"name": rng.choice(["DAY", "NIGHT"])}]}}


def boxes_of(response: dict[str, Any]) -> list[tuple[float, ...]]:
    out = []
    for annotation in response["JOB_0"]["annotations"]:
        vertices = annotation["boundingPoly"][0]["normalizedVertices"]
        out.append((vertices[1]["x"], vertices[1]["y"], vertices[2]["x"], vertices[0]["y"]))
    return out


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, {platform.system()}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + " |")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def batches(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(total, start + size))


Call = Callable[[], Any]


def _skip(*args: Any, **kwargs: Any) -> None:
    del args, kwargs


def _no_consensus(*args: Any, **kwargs: Any) -> tuple[dict[int, Any], dict[int, Any]]:
    del args, kwargs
    return {}, {}


#: What a label append calls to maintain quality marks, looked up in labelport.services.marks at each
#: call (labelport.quality.marks in checkouts before the service layer), and the no-op that
#: ``marks_disabled`` puts in its place.
_MARK_STEPS = {"refresh_marks": _skip, "prepare_soon_compared": _skip, "consensus_marks": _no_consensus}


@contextmanager
def marks_disabled(disabled: bool = True) -> Iterator[None]:
    """Within the block, label appends maintain no quality mark (the baseline of mark maintenance)."""
    import importlib

    try:
        marks_module = importlib.import_module("labelport.services.marks")
    except ModuleNotFoundError:  # a baseline checkout from before the service layer
        marks_module = importlib.import_module("labelport.quality.marks")
    originals = {name: getattr(marks_module, name) for name in _MARK_STEPS}
    if disabled:
        for name, replacement in _MARK_STEPS.items():
            setattr(marks_module, name, replacement)
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(marks_module, name, function)
