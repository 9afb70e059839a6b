"""The ontology of a project: Kili's ``jsonInterface``, validated and indexed.

A jsonInterface is ``{"jobs": {JOB_ID: {mlTask, tools, content: {input, categories}, required,
isChild, instruction}}}``. :class:`Ontology` checks it once (on project create and update) and
offers what the rest of labelport asks of it: root jobs, child jobs, categories in ontology order
(the source of stable class ids), the tools of a job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelport.enums import MULTIPLE_CHOICE_INPUTS, SINGLE_CHOICE_INPUTS, MLTask, Tool
from labelport.errors import OntologyError, a_or_an
from labelport.values import check_json, check_text

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_OBJECT_TOOLS = frozenset(
    {
        Tool.RECTANGLE,
        Tool.POLYGON,
        Tool.SEMANTIC,
        Tool.MARKER,
        Tool.POLYLINE,
        Tool.VECTOR,
        Tool.POSE,
    }
)
_TASKS_WITH_CATEGORIES = frozenset(
    {
        MLTask.CLASSIFICATION,
        MLTask.OBJECT_DETECTION,
        MLTask.NAMED_ENTITIES_RECOGNITION,
        MLTask.NAMED_ENTITIES_RELATION,
        MLTask.OBJECT_RELATION,
        MLTask.POSE_ESTIMATION,
    }
)


@dataclass(frozen=True)
class PosePoint:
    """A keypoint of a pose category."""

    code: str
    name: str


@dataclass(frozen=True)
class Category:
    """One category of a job, in ontology order (``index`` is 0-based)."""

    key: str
    name: str
    index: int
    children: tuple[str, ...] = ()
    color: str | None = None
    points: tuple[PosePoint, ...] = ()


@dataclass(frozen=True)
class Job:
    """One job of the ontology."""

    name: str
    ml_task: str
    input: str | None
    tools: tuple[str, ...]
    categories: Mapping[str, Category]
    required: bool
    is_child: bool
    instruction: str
    child_jobs: tuple[str, ...] = field(default=())

    @property
    def is_single_choice(self) -> bool:
        return self.input in SINGLE_CHOICE_INPUTS

    @property
    def is_multiple_choice(self) -> bool:
        return self.input in MULTIPLE_CHOICE_INPUTS

    @property
    def is_object_job(self) -> bool:
        """True for jobs whose answers are ``annotations`` with geometry (boxes, points, poses…)."""
        return self.ml_task in (MLTask.OBJECT_DETECTION, MLTask.POSE_ESTIMATION)

    def allows_tool(self, tool: str) -> bool:
        """Whether an annotation of this ``type`` fits the job (``marker`` fits a pose job)."""
        return tool in self.tools or (tool == Tool.MARKER and Tool.POSE in self.tools)

    def category(self, key: str) -> Category | None:
        return self.categories.get(key)


class Ontology:
    """A validated jsonInterface. Build it with :meth:`from_json`."""

    def __init__(self, raw: dict[str, Any], jobs: dict[str, Job]) -> None:
        self.raw = raw
        self.jobs = jobs

    @classmethod
    def from_json(cls, json_interface: object) -> Ontology:
        """Validate a jsonInterface and index it; raise :class:`OntologyError` naming the fault."""
        if not isinstance(json_interface, dict):
            raise OntologyError(
                f"The jsonInterface must be a JSON object with a 'jobs' key, not {type(json_interface).__name__}."
            )
        check_json(json_interface, "The jsonInterface", error=OntologyError)
        jobs_raw = json_interface.get("jobs")
        if not isinstance(jobs_raw, dict) or not jobs_raw:
            raise OntologyError(
                "The jsonInterface must have a non-empty 'jobs' object, "
                'e.g. {"jobs": {"JOB_0": {"mlTask": "CLASSIFICATION", ...}}}.'
            )
        jobs = {name: _parse_job(name, spec) for name, spec in jobs_raw.items()}
        _check_children(jobs)
        jobs = {name: _with_child_jobs(job, jobs) for name, job in jobs.items()}
        return cls(json_interface, jobs)

    def __contains__(self, job_name: object) -> bool:
        return job_name in self.jobs

    def __iter__(self) -> Iterator[Job]:
        return iter(self.jobs.values())

    def job(self, name: str) -> Job:
        try:
            return self.jobs[name]
        except KeyError:
            valid = ", ".join(self.jobs)
            raise OntologyError(f"Job {name!r} does not exist in the ontology; jobs: {valid}.") from None

    @property
    def root_jobs(self) -> list[Job]:
        """Jobs that are not children of a category, in ontology order."""
        return [job for job in self.jobs.values() if not job.is_child]


def _parse_job(name: str, spec: object) -> Job:
    where = f"Job {name!r}"
    if not isinstance(name, str) or not name:
        raise OntologyError("Every job needs a non-empty name.")
    check_text(name, "Job name", kind="name", printable=True, error=OntologyError)
    if not isinstance(spec, dict):
        raise OntologyError(f"{where} must be a JSON object.")
    task = spec.get("mlTask")
    if not isinstance(task, str) or task not in MLTask.__members__:
        supported = ", ".join(MLTask)
        raise OntologyError(f"{where} has mlTask {task!r}; labelport supports: {supported}.")
    content = spec.get("content", {})
    if not isinstance(content, dict):
        raise OntologyError(f"{where}: 'content' must be a JSON object.")
    input_kind = content.get("input")
    if input_kind is not None and not isinstance(input_kind, str):
        raise OntologyError(f"{where}: content.input must be a string, not {input_kind!r}.")
    if task == MLTask.CLASSIFICATION and input_kind not in SINGLE_CHOICE_INPUTS | MULTIPLE_CHOICE_INPUTS:
        choices = ", ".join(sorted(SINGLE_CHOICE_INPUTS | MULTIPLE_CHOICE_INPUTS))
        raise OntologyError(f"{where} is a CLASSIFICATION and needs content.input in: {choices} (got {input_kind!r}).")
    tools = _parse_tools(where, task, spec.get("tools", []))
    categories = _parse_categories(where, task, content.get("categories"))
    required = spec.get("required", 0)
    if required not in (0, 1, True, False):
        raise OntologyError(f"{where}: 'required' must be 0 or 1, not {required!r}.")
    is_child = spec.get("isChild", False)
    if not isinstance(is_child, bool):
        raise OntologyError(f"{where}: 'isChild' must be true or false, not {is_child!r}.")
    instruction = spec.get("instruction", "")
    return Job(
        name=name,
        ml_task=task,
        input=input_kind,
        tools=tools,
        categories=categories,
        required=bool(required),
        is_child=is_child,
        instruction=instruction if isinstance(instruction, str) else str(instruction),
    )


def _parse_tools(where: str, task: str, tools: object) -> tuple[str, ...]:
    if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
        raise OntologyError(f"{where}: 'tools' must be a list of tool names.")
    unknown = [t for t in tools if t not in Tool._value2member_map_]
    if unknown:
        raise OntologyError(f"{where} has unknown tool(s) {unknown}; tools are: {', '.join(Tool)}.")
    if task in (MLTask.OBJECT_DETECTION, MLTask.POSE_ESTIMATION):
        if not tools:
            raise OntologyError(f"{where} ({task}) needs at least one tool, e.g. ['rectangle'].")
        wrong = [t for t in tools if t not in _OBJECT_TOOLS]
        if wrong:
            raise OntologyError(f"{where}: tool(s) {wrong} cannot draw objects in {a_or_an(task)} job.")
    return tuple(tools)


def _parse_categories(where: str, task: str, raw: object) -> dict[str, Category]:
    if raw is None:
        if task in _TASKS_WITH_CATEGORIES:
            raise OntologyError(f"{where} ({task}) needs content.categories.")
        return {}
    if not isinstance(raw, dict):
        raise OntologyError(f"{where}: content.categories must be a JSON object.")
    if task in _TASKS_WITH_CATEGORIES and not raw:
        raise OntologyError(f"{where} ({task}) needs at least one category.")
    categories: dict[str, Category] = {}
    for index, (key, spec) in enumerate(raw.items()):
        here = f"{where}, category {key!r}"
        check_text(key, f"{where}: category key", kind="name", printable=True, error=OntologyError)
        if not isinstance(spec, dict):
            raise OntologyError(f"{here} must be a JSON object with a 'name'.")
        name = spec.get("name", key)
        if not isinstance(name, str):
            raise OntologyError(f"{here}: 'name' must be a string.")
        children = spec.get("children", [])
        if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
            raise OntologyError(f"{here}: 'children' must be a list of job names.")
        color = spec.get("color")
        if color is not None and (not isinstance(color, str) or not _COLOR.match(color)):
            raise OntologyError(f"{here}: color must look like '#1A2B3C', not {color!r}.")
        points = _parse_points(here, spec.get("points", []))
        categories[key] = Category(key, name, index, tuple(children), color, points)
    return categories


def _parse_points(here: str, raw: object) -> tuple[PosePoint, ...]:
    if not isinstance(raw, list):
        raise OntologyError(f"{here}: 'points' must be a list of {{code, name}} objects.")
    points = []
    for point in raw:
        if not isinstance(point, dict) or not isinstance(point.get("code"), str):
            raise OntologyError(f"{here}: every pose point needs a string 'code', got {point!r}.")
        points.append(PosePoint(point["code"], str(point.get("name", point["code"]))))
    return tuple(points)


def _check_children(jobs: dict[str, Job]) -> None:
    for job in jobs.values():
        for category in job.categories.values():
            for child in category.children:
                if child not in jobs:
                    raise OntologyError(
                        f"Job {job.name!r}, category {category.key!r} lists child job {child!r}, "
                        "which the ontology does not define; add the job or remove it from 'children'."
                    )
                if not jobs[child].is_child:
                    raise OntologyError(
                        f"Job {job.name!r}, category {category.key!r} lists child job {child!r}, "
                        'which is not marked "isChild": true; mark it so.'
                    )
    for name in jobs:
        _walk_children(name, jobs)


def _walk_children(root: str, jobs: dict[str, Job]) -> None:
    """Refuse a cycle among the child jobs under ``root`` (depth first, without recursion: an ontology
    may nest jobs as deep as it likes)."""
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while stack:
        name, path = stack.pop()
        if name in path:
            cycle = " → ".join((*path, name))
            raise OntologyError(f"The ontology's child jobs form a cycle: {cycle}; remove one link.")
        children = [child for category in jobs[name].categories.values() for child in category.children]
        stack.extend((child, (*path, name)) for child in reversed(children))


def _with_child_jobs(job: Job, jobs: dict[str, Job]) -> Job:
    seen: dict[str, None] = {}
    for category in job.categories.values():
        for child in category.children:
            seen.setdefault(child)
    return Job(**{**job.__dict__, "child_jobs": tuple(seen)})
