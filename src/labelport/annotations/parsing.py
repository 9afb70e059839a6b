"""Parsed labels: an object API over a label's ``jsonResponse`` (Kili's ``ParsedLabel``).

``ParsedLabel(label, json_interface, input_type)`` is the label as a dict without its
``jsonResponse``; the answers are reached through ``.jobs``::

    label.jobs["JOB_0"].annotations[0].category.name
    label.jobs["CLASSIF"].category.display_name
    label.jobs["OD"].annotations[0].bounding_poly[0].normalized_vertices
    label.jobs["OD"].annotations[0].children["TRANSCRIPTION_JOB"].text

Every wrapper is a live view over one deep copy of the jsonResponse: reading goes to the stored
dicts, writing (setters, ``add_*``) changes them, and ``.json_response`` / ``.to_dict()`` give the
result. A job (or a ``children`` dict) that the response lacks is created on the first write only,
so an untouched label round-trips unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, SupportsIndex, TypeGuard, overload

from labelport.enums import SPECIAL_RESPONSE_KEYS, MLTask, Tool
from labelport.errors import (
    AttributeNotCompatibleWithJobError,
    FrameIndexError,
    JobNotExistingError,
    JsonResponseError,
    RequiredJobMissingError,
)
from labelport.ids import new_id
from labelport.ontology import Job, Ontology

__all__ = [
    "Annotation",
    "AnnotationList",
    "BoundingPoly",
    "BoundingPolyList",
    "Category",
    "CategoryList",
    "FramesList",
    "JobPayload",
    "ParsedJobs",
    "ParsedLabel",
    "PdfPosition",
    "PosePointAnnotation",
    "RequiredJobMissingError",
    "parse_labels",
]

Json = dict[str, Any]

_OBJECT_TASKS = frozenset({MLTask.OBJECT_DETECTION, MLTask.POSE_ESTIMATION})
_POLY_TOOLS = frozenset({Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC, Tool.POLYLINE, Tool.VECTOR})
_LINE_TOOLS = frozenset({Tool.POLYLINE, Tool.VECTOR})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# -- small helpers ---------------------------------------------------------------------------------


def _incompatible(attribute: str) -> AttributeNotCompatibleWithJobError:
    return AttributeNotCompatibleWithJobError(f"The attribute '{attribute}' is not compatible with the job.")


def _no_job(name: object) -> JobNotExistingError:
    return JobNotExistingError(f"Job named '{name}' does not exist.")


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_in(data: Json, key: str) -> list[Any]:
    """The list stored under ``key``, created (or replacing a non-list) for writing."""
    value = data.get(key)
    if not isinstance(value, list):
        value = data[key] = []
    return value


def _stored_list(data: Json, key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _dicts(value: object) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class _Slot:
    """Where a dict lives: a concrete dict, or ``parent[key]``, created on the first write."""

    __slots__ = ("_data", "_key", "_parent")

    def __init__(self, data: Json | None = None, parent: _Slot | None = None, key: str = "") -> None:
        self._data = data if data is not None else {}
        self._parent = parent
        self._key = key

    def child(self, key: str) -> _Slot:
        return _Slot(parent=self, key=key)

    def read(self) -> Json:
        """The dict as stored now, or a throw-away empty dict when it does not exist yet."""
        if self._parent is None:
            return self._data
        value = self._parent.read().get(self._key)
        return value if isinstance(value, dict) else {}

    def write(self) -> Json:
        """The stored dict, created in its parents when missing."""
        if self._parent is None:
            return self._data
        container = self._parent.write()
        value = container.get(self._key)
        if not isinstance(value, dict):
            value = container[self._key] = {}
        return value


@dataclass(frozen=True)
class _Scope:
    ontology: Ontology
    input_type: str
    video: bool

    @property
    def pdf(self) -> bool:
        return "PDF" in self.input_type


@dataclass(frozen=True)
class _Ctx:
    scope: _Scope
    job: Job

    @property
    def task(self) -> str:
        return self.job.ml_task


# -- checks ----------------------------------------------------------------------------------------


def _check_jobs(ontology: Ontology, container: object) -> None:
    """Check that every key of a jobs dict is a job of the ontology (or a special key)."""
    if not isinstance(container, dict):
        raise JsonResponseError(
            f"A jsonResponse (or a 'children' value) must be a JSON object keyed by job name, "
            f"not {type(container).__name__}."
        )
    for name, payload in container.items():
        if name in SPECIAL_RESPONSE_KEYS:
            continue
        job = ontology.jobs.get(name)
        if job is None:
            raise _no_job(name)
        _check_payload(ontology, job, payload)


def _check_payload(ontology: Ontology, job: Job, payload: object) -> None:
    if not isinstance(payload, dict):
        raise JsonResponseError(f"The answer of job '{job.name}' must be a JSON object, not {type(payload).__name__}.")
    _check_categories(ontology, payload)
    for annotation in _dicts(payload.get("annotations")):
        if "type" in annotation:
            _check_tool(job, annotation["type"])
        _check_categories(ontology, annotation)
        _check_children(ontology, annotation)
        for point in _dicts(annotation.get("points")):
            _check_children(ontology, point)


def _check_categories(ontology: Ontology, holder: Json) -> None:
    for category in _dicts(holder.get("categories")):
        _check_children(ontology, category)


def _check_children(ontology: Ontology, holder: Json) -> None:
    if holder.get("children") is not None:
        _check_jobs(ontology, holder["children"])


def _check_tool(job: Job, tool: object) -> None:
    if not isinstance(tool, str) or not job.allows_tool(tool):
        tools = ", ".join(job.tools) or "none"
        raise JsonResponseError(f"Annotation type {tool!r} is not a tool of job '{job.name}'; its tools are: {tools}.")


def _check_mid(mid: object) -> str:
    if not isinstance(mid, str) or not mid:
        raise JsonResponseError(f"An annotation 'mid' must be a non-empty string, not {mid!r}.")
    return mid


def _check_category_name(job: Job, name: object) -> str:
    if not isinstance(name, str) or name not in job.categories:
        keys = ", ".join(job.categories) or "none"
        raise JsonResponseError(f"Category {name!r} does not exist in job '{job.name}'; its categories are: {keys}.")
    return name


def _check_confidence(confidence: object) -> int | float:
    if _is_number(confidence) and 0 <= confidence <= 100:
        return confidence
    raise JsonResponseError(f"A confidence must be a number from 0 to 100, not {confidence!r}.")


def _check_offset(attribute: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise JsonResponseError(f"'{attribute}' must be an integer ≥ 0, not {value!r}.")
    return value


def _is_point(value: object) -> bool:
    return isinstance(value, dict) and _is_number(value.get("x")) and _is_number(value.get("y"))


def _check_vertices(tool: str | None, vertices: object) -> list[Any]:
    """Check new vertices: {x, y} points; 4 for a rectangle, at least 3 for a polygon."""
    if not isinstance(vertices, list) or not all(_is_point(v) for v in vertices):
        raise JsonResponseError(f"normalizedVertices must be a list of {{'x': number, 'y': number}}, not {vertices!r}.")
    if tool == Tool.RECTANGLE and len(vertices) != 4:
        raise JsonResponseError(f"A rectangle needs exactly 4 vertices, got {len(vertices)}.")
    if tool in (Tool.POLYGON, Tool.SEMANTIC) and len(vertices) < 3:
        raise JsonResponseError(f"A {tool} needs at least 3 vertices, got {len(vertices)}.")
    return vertices


def _new_poly(tool: str | None, poly: object) -> Json:
    if isinstance(poly, BoundingPoly):
        poly = poly.as_dict()
    if not isinstance(poly, Mapping):
        raise JsonResponseError(f"A bounding poly must be a dict like {{'normalizedVertices': [...]}}, not {poly!r}.")
    _check_vertices(tool, poly.get("normalizedVertices"))
    return copy.deepcopy(dict(poly))


def _check_text(job: Job, text: object) -> str:
    if not isinstance(text, str):
        raise JsonResponseError(f"The text of job '{job.name}' must be a string, not {text!r}.")
    if job.input == "date" and not _is_date(text):
        raise JsonResponseError(f"Job '{job.name}' expects a date written YYYY-MM-DD, not {text!r}.")
    if job.input == "number" and not _NUMBER.match(text):
        raise JsonResponseError(f"Job '{job.name}' expects a number, not {text!r}.")
    return text


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- child jobs ------------------------------------------------------------------------------------


def _point_children(ontology: Ontology, job: Job, key: str) -> list[str]:
    jobs_raw = ontology.raw.get("jobs", {})
    categories = jobs_raw.get(job.name, {}).get("content", {}).get("categories", {})
    points = _dicts(categories.get(key, {}).get("points"))
    return [c for p in points for c in _stored_list(p, "children") if isinstance(c, str)]


def _existing_children(ontology: Ontology, names: Iterable[str]) -> list[str]:
    found = dict.fromkeys(n for n in names if n in ontology.jobs and ontology.jobs[n].is_child)
    return list(found)


def _category_children(ontology: Ontology, job: Job, key: str) -> list[str]:
    category = job.categories.get(key)
    names = list(category.children) if category else []
    return _existing_children(ontology, names + _point_children(ontology, job, key))


def _job_children(ontology: Ontology, job: Job) -> list[str]:
    names = [n for key in job.categories for n in _category_children(ontology, job, key)]
    return _existing_children(ontology, names)


# -- jobs ------------------------------------------------------------------------------------------


class ParsedJobs(Mapping[str, "JobPayload | FramesList"]):
    """The answers of a label (or of a category or annotation's child jobs), keyed by job name.

    It holds every job in scope, answered or not; an unknown name raises
    :class:`JobNotExistingError`.
    """

    def __init__(self, payloads: Mapping[str, JobPayload | FramesList]) -> None:
        self._payloads = dict(payloads)

    def __getitem__(self, name: str) -> JobPayload | FramesList:
        try:
            return self._payloads[name]
        except KeyError:
            raise _no_job(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._payloads)

    def __len__(self) -> int:
        return len(self._payloads)

    def __repr__(self) -> str:
        return f"ParsedJobs({list(self._payloads)!r})"


def _names_in_scope(ontology: Ontology, declared: list[str], containers: Iterable[Json]) -> list[str]:
    """Declared jobs first, then jobs of the ontology that the response holds anyway."""
    names = dict.fromkeys(declared)
    for container in containers:
        names.update(dict.fromkeys(k for k in container if k in ontology.jobs))
    return list(names)


def _jobs_over(scope: _Scope, declared: list[str], slot: _Slot) -> ParsedJobs:
    names = _names_in_scope(scope.ontology, declared, [slot.read()])
    jobs = scope.ontology.jobs
    return ParsedJobs({n: JobPayload(slot.child(n), _Ctx(scope, jobs[n])) for n in names})


def _video_jobs(scope: _Scope, response: Json) -> ParsedJobs:
    frames = [response[k] for k in sorted(response, key=int)]
    declared = [job.name for job in scope.ontology.root_jobs]
    names = _names_in_scope(scope.ontology, declared, frames)
    jobs = scope.ontology.jobs
    return ParsedJobs(
        {n: FramesList(JobPayload(_Slot(f).child(n), _Ctx(scope, jobs[n])) for f in frames) for n in names}
    )


class FramesList(list["JobPayload"]):
    """The per-frame answers of one job in a video label, sorted by frame number."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> JobPayload: ...

    @overload
    def __getitem__(self, index: slice[Any, Any, Any]) -> list[JobPayload]: ...

    def __getitem__(self, index: SupportsIndex | slice[Any, Any, Any]) -> JobPayload | list[JobPayload]:
        try:
            return super().__getitem__(index)
        except IndexError:
            raise FrameIndexError(f"Frame index {index} is out of range: the label has {len(self)} frames.") from None

    @property
    def frames(self) -> FramesList:
        """The list itself: ``jobs[job].frames[i]`` reads like ``jobs[job][i]``."""
        return self


class JobPayload:
    """The answer of one job in a label, or in one frame of a video label."""

    def __init__(self, slot: _Slot, ctx: _Ctx) -> None:
        self._slot = slot
        self._ctx = ctx

    @property
    def job_name(self) -> str:
        return self._ctx.job.name

    def _need(self, attribute: str, ok: bool) -> None:
        if not ok:
            raise _incompatible(attribute)

    def _stored(self, key: str) -> Any:
        """The value under ``key``; None when absent and the job is not required."""
        data = self._slot.read()
        if key in data:
            return data[key]
        if self._ctx.job.required:
            raise RequiredJobMissingError(f"Job '{self.job_name}' is required but the label has no '{key}' for it.")
        return None

    @property
    def categories(self) -> CategoryList:
        self._need("categories", self._ctx.task == MLTask.CLASSIFICATION)
        self._stored("categories")
        return CategoryList(self._slot, self._ctx)

    @property
    def category(self) -> Category | None:
        job = self._ctx.job
        self._need("category", job.ml_task == MLTask.CLASSIFICATION and job.is_single_choice)
        if self._stored("categories") is None:
            return None
        return _single(CategoryList(self._slot, self._ctx), f"Job '{job.name}'")

    def add_category(self, name: str, confidence: int | float | None = None) -> Category:
        """Add a category to a classification job, checked against the ontology."""
        self._need("add_category", self._ctx.task == MLTask.CLASSIFICATION)
        return CategoryList(self._slot, self._ctx).add_category(name, confidence)

    @property
    def text(self) -> str | None:
        self._need("text", self._ctx.task == MLTask.TRANSCRIPTION)
        return self._stored("text")

    @text.setter
    def text(self, value: str) -> None:
        self._need("text", self._ctx.task == MLTask.TRANSCRIPTION)
        self._slot.write()["text"] = _check_text(self._ctx.job, value)

    @property
    def is_key_frame(self) -> bool | None:
        ok = self._ctx.task == MLTask.CLASSIFICATION and self._ctx.scope.video
        self._need("is_key_frame", ok)
        return self._slot.read().get("isKeyFrame")

    @property
    def annotations(self) -> AnnotationList:
        ok = self._ctx.task != MLTask.CLASSIFICATION or "annotations" in self._slot.read()
        self._need("annotations", ok)
        self._stored("annotations")
        return AnnotationList(self._slot, self._ctx)

    @property
    def entity_annotations(self) -> AnnotationList:
        self._need("entity_annotations", self._ctx.task == MLTask.NAMED_ENTITIES_RECOGNITION)
        return self.annotations

    @property
    def bounding_poly_annotations(self) -> AnnotationList:
        self._need("bounding_poly_annotations", self._ctx.task == MLTask.OBJECT_DETECTION)
        return self.annotations

    @property
    def children(self) -> ParsedJobs:
        self._need("children", bool(self._slot.read().get("children")))
        names = _job_children(self._ctx.scope.ontology, self._ctx.job)
        return _jobs_over(self._ctx.scope, names, self._slot.child("children"))

    def to_dict(self) -> Json:
        """The answer as a plain dict (a copy)."""
        return copy.deepcopy(self._slot.read())

    def __repr__(self) -> str:
        return f"JobPayload({self.job_name!r}, {self._slot.read()!r})"


# -- categories ------------------------------------------------------------------------------------


def _single(categories: CategoryList, owner: str) -> Category | None:
    if len(categories) > 1:
        raise JsonResponseError(f"{owner} holds {len(categories)} categories; read .categories instead of .category.")
    return categories[0] if categories else None


class Category:
    """One chosen category: ``{"name": KEY, "confidence"?: int, "children"?: {...}}``."""

    def __init__(self, data: Json, ctx: _Ctx) -> None:
        self._data = data
        self._ctx = ctx

    @property
    def name(self) -> str:
        """The category key of the ontology, e.g. ``OBJECT_A``."""
        return self._data["name"]

    @name.setter
    def name(self, value: str) -> None:
        self._data["name"] = _check_category_name(self._ctx.job, value)

    @property
    def display_name(self) -> str | None:
        """The ontology's ``name`` of the category, e.g. "Object A" (None for an unknown key)."""
        category = self._ctx.job.categories.get(self._data.get("name", ""))
        return category.name if category else None

    @display_name.setter
    def display_name(self, value: str) -> None:
        job = self._ctx.job
        if len({c.name for c in job.categories.values()}) != len(job.categories):
            raise JsonResponseError(
                f"Job '{job.name}' has duplicate display names; set .name to a category key instead."
            )
        keys = [c.key for c in job.categories.values() if c.name == value]
        if not keys:
            names = ", ".join(repr(c.name) for c in job.categories.values())
            raise JsonResponseError(
                f"No category of job '{job.name}' is displayed as {value!r}; display names: {names}."
            )
        self._data["name"] = keys[0]

    @property
    def confidence(self) -> int | float | None:
        return self._data.get("confidence")

    @property
    def children(self) -> ParsedJobs:
        """The child jobs of this category, answered or not."""
        scope = self._ctx.scope
        names = _category_children(scope.ontology, self._ctx.job, self._data.get("name", ""))
        return _jobs_over(scope, names, _Slot(self._data).child("children"))

    def as_dict(self) -> Json:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"Category({self._data!r})"


class CategoryList(Sequence[Category]):
    """The categories chosen in a classification answer or on an annotation."""

    def __init__(self, owner: _Slot, ctx: _Ctx) -> None:
        self._owner = owner
        self._ctx = ctx

    def _items(self) -> list[Json]:
        return _stored_list(self._owner.read(), "categories")

    @overload
    def __getitem__(self, index: int) -> Category: ...

    @overload
    def __getitem__(self, index: slice) -> list[Category]: ...

    def __getitem__(self, index: int | slice) -> Category | list[Category]:
        if isinstance(index, slice):
            return [Category(c, self._ctx) for c in self._items()[index]]
        return Category(self._items()[index], self._ctx)

    def __len__(self) -> int:
        return len(self._items())

    def add_category(
        self,
        name: str,
        confidence: int | float | None = None,
        children: Mapping[str, Any] | None = None,
    ) -> Category:
        """Add a category; refuse an unknown or repeated name and too many categories."""
        self._check_room(_check_category_name(self._ctx.job, name))
        entry: Json = {"name": name}
        if confidence is not None:
            entry["confidence"] = _check_confidence(confidence)
        if children is not None:
            _check_jobs(self._ctx.scope.ontology, dict(children))
            entry["children"] = copy.deepcopy(dict(children))
        _list_in(self._owner.write(), "categories").append(entry)
        return Category(entry, self._ctx)

    def _check_room(self, name: str) -> None:
        job = self._ctx.job
        names = [c.get("name") for c in self._items() if isinstance(c, dict)]
        if name in names:
            raise JsonResponseError(f"Category '{name}' is already chosen in job '{job.name}'.")
        if job.is_single_choice and names:
            raise JsonResponseError(
                f"Job '{job.name}' is single choice ({job.input}) and already has category '{names[0]}'."
            )
        if job.is_multiple_choice and len(names) >= len(job.categories):
            raise JsonResponseError(f"Job '{job.name}' has {len(job.categories)} categories; all are already chosen.")

    def as_list(self) -> list[Json]:
        return copy.deepcopy(self._items())

    def __repr__(self) -> str:
        return f"CategoryList({self._items()!r})"


# -- geometry --------------------------------------------------------------------------------------


class BoundingPoly:
    """One polygon of an annotation: ``{"normalizedVertices": [{"x", "y"}, ...]}``."""

    def __init__(self, data: Json, tool: str | None) -> None:
        self._data = data
        self._tool = tool

    @property
    def normalized_vertices(self) -> list[Any]:
        return self._data.get("normalizedVertices", [])

    @normalized_vertices.setter
    def normalized_vertices(self, value: list[Any]) -> None:
        if self._tool is not None:
            _check_vertices(self._tool, value)
        self._data["normalizedVertices"] = copy.deepcopy(value)

    def as_dict(self) -> Json:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"BoundingPoly({self._data!r})"


class BoundingPolyList(Sequence[BoundingPoly]):
    """The list of :class:`BoundingPoly` stored under one key of an annotation."""

    def __init__(self, owner: Json, key: str, tool: str | None) -> None:
        self._owner = owner
        self._key = key
        self._tool = tool

    def _items(self) -> list[Json]:
        return _stored_list(self._owner, self._key)

    @overload
    def __getitem__(self, index: int) -> BoundingPoly: ...

    @overload
    def __getitem__(self, index: slice) -> list[BoundingPoly]: ...

    def __getitem__(self, index: int | slice) -> BoundingPoly | list[BoundingPoly]:
        if isinstance(index, slice):
            return [BoundingPoly(p, self._tool) for p in self._items()[index]]
        return BoundingPoly(self._items()[index], self._tool)

    def __len__(self) -> int:
        return len(self._items())

    def as_list(self) -> list[Json]:
        return copy.deepcopy(self._items())

    def __repr__(self) -> str:
        return f"BoundingPolyList({self._items()!r})"


class PdfPosition:
    """Where a named entity of a PDF lies: pages, and polygons (lists of vertex lists)."""

    def __init__(self, data: Json) -> None:
        self._data = data

    @property
    def page_number_array(self) -> list[int]:
        return _stored_list(self._data, "pageNumberArray")

    @property
    def polys(self) -> BoundingPolyList:
        return BoundingPolyList(self._data, "polys", None)

    @property
    def bounding_poly(self) -> BoundingPolyList:
        return BoundingPolyList(self._data, "boundingPoly", None)

    def as_dict(self) -> Json:
        return copy.deepcopy(self._data)


class PosePointAnnotation:
    """One keypoint of a pose annotation."""

    def __init__(self, data: Json, ctx: _Ctx, category: str | None) -> None:
        self._data = data
        self._ctx = ctx
        self._category = category

    @property
    def point(self) -> Json | None:
        return self._data.get("point")

    @property
    def code(self) -> str | None:
        return self._data.get("code")

    @property
    def mid(self) -> str | None:
        return self._data.get("mid")

    @property
    def name(self) -> str | None:
        """The stored name, else the ontology's name of this code in the pose's category."""
        if "name" in self._data:
            return self._data["name"]
        category = self._ctx.job.categories.get(self._category or "")
        points = category.points if category else ()
        return next((p.name for p in points if p.code == self.code), None)

    @property
    def job_name(self) -> str:
        """The stored ``jobName``, else the name of the pose job."""
        return self._data.get("jobName", self._ctx.job.name)

    def as_dict(self) -> Json:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"PosePointAnnotation({self._data!r})"


# -- annotations -----------------------------------------------------------------------------------

_Rule = Callable[[_Ctx, "str | None"], bool]


def _object_rule(tools: frozenset[str] | None = None) -> _Rule:
    def rule(ctx: _Ctx, tool: str | None) -> bool:
        return ctx.task in _OBJECT_TASKS and (tools is None or tool in tools)

    return rule


def _task_rule(task: str, pdf: bool | None = None) -> _Rule:
    def rule(ctx: _Ctx, tool: str | None) -> bool:
        return ctx.task == task and (pdf is None or ctx.scope.pdf == pdf)

    return rule


_NER = MLTask.NAMED_ENTITIES_RECOGNITION
_ANNOTATION_RULES: dict[str, _Rule] = {
    "category": lambda ctx, tool: ctx.job.is_single_choice,
    "type": _object_rule(),
    "bounding_poly": _object_rule(_POLY_TOOLS),
    "add_bounding_poly": _object_rule(_POLY_TOOLS),
    "score": _object_rule(_POLY_TOOLS),
    "is_key_frame": lambda ctx, tool: ctx.task in _OBJECT_TASKS and ctx.scope.video,
    "point": _object_rule(frozenset({Tool.MARKER})),
    "polyline": _object_rule(_LINE_TOOLS),
    "kind": _object_rule(frozenset({Tool.POSE})),
    "points": _object_rule(frozenset({Tool.POSE})),
    "content": _task_rule(_NER),
    "begin_offset": _task_rule(_NER, pdf=False),
    "end_offset": _task_rule(_NER, pdf=False),
    "annotations": _task_rule(_NER, pdf=True),
    "start_entities": _task_rule(MLTask.NAMED_ENTITIES_RELATION),
    "end_entities": _task_rule(MLTask.NAMED_ENTITIES_RELATION),
    "start_objects": _task_rule(MLTask.OBJECT_RELATION),
    "end_objects": _task_rule(MLTask.OBJECT_RELATION),
}


class Annotation:
    """One annotation of a job (an object, an entity, a relation…).

    Every member is checked against the job's mlTask and the annotation's ``type``; a member that
    does not apply raises :class:`AttributeNotCompatibleWithJobError`.
    """

    def __init__(self, data: Json, ctx: _Ctx) -> None:
        self._data = data
        self._ctx = ctx

    def _need(self, attribute: str) -> None:
        if not _ANNOTATION_RULES[attribute](self._ctx, self._data.get("type")):
            raise _incompatible(attribute)

    # all tasks
    @property
    def mid(self) -> str:
        return self._data["mid"]

    @mid.setter
    def mid(self, value: str) -> None:
        self._data["mid"] = _check_mid(value)

    @property
    def categories(self) -> CategoryList:
        return CategoryList(_Slot(self._data), self._ctx)

    @property
    def category(self) -> Category | None:
        self._need("category")
        return _single(self.categories, f"Annotation '{self._data.get('mid')}'")

    def add_category(self, name: str, confidence: int | float | None = None) -> Category:
        """Add a category to the annotation, checked against the ontology."""
        return self.categories.add_category(name, confidence)

    @property
    def children(self) -> ParsedJobs:
        names = _job_children(self._ctx.scope.ontology, self._ctx.job)
        return _jobs_over(self._ctx.scope, names, _Slot(self._data).child("children"))

    def as_dict(self) -> Json:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"Annotation({self._data!r})"

    # objects
    @property
    def type(self) -> str | None:
        self._need("type")
        return self._data.get("type")

    @property
    def bounding_poly(self) -> BoundingPolyList:
        self._need("bounding_poly")
        return BoundingPolyList(self._data, "boundingPoly", self._data.get("type"))

    @bounding_poly.setter
    def bounding_poly(self, value: Iterable[Mapping[str, Any] | BoundingPoly]) -> None:
        self._need("bounding_poly")
        self._data["boundingPoly"] = [_new_poly(self._data.get("type"), p) for p in value]

    def add_bounding_poly(self, poly: Mapping[str, Any]) -> BoundingPoly:
        """Append a polygon ``{"normalizedVertices": [...]}``, checked for the tool."""
        self._need("add_bounding_poly")
        entry = _new_poly(self._data.get("type"), poly)
        _list_in(self._data, "boundingPoly").append(entry)
        return BoundingPoly(entry, self._data.get("type"))

    @property
    def score(self) -> int | float | None:
        self._need("score")
        return self._data.get("score")

    @score.setter
    def score(self, value: int | float) -> None:
        self._need("score")
        if not _is_number(value) or not 0 <= value <= 100:
            raise JsonResponseError(f"A score must be a number from 0 to 100, not {value!r}.")
        self._data["score"] = value

    @property
    def is_key_frame(self) -> bool | None:
        self._need("is_key_frame")
        return self._data.get("isKeyFrame")

    @property
    def point(self) -> Json | None:
        self._need("point")
        return self._data.get("point")

    @property
    def polyline(self) -> list[Json] | None:
        self._need("polyline")
        return self._data.get("polyline")

    @property
    def kind(self) -> str | None:
        self._need("kind")
        return self._data.get("kind")

    @property
    def points(self) -> list[PosePointAnnotation]:
        self._need("points")
        names = [c.get("name") for c in _dicts(self._data.get("categories"))]
        category = names[0] if names else None
        points = _dicts(self._data.get("points"))
        return [PosePointAnnotation(p, self._ctx, category) for p in points]

    # named entities
    @property
    def content(self) -> str | None:
        self._need("content")
        return self._data.get("content")

    @content.setter
    def content(self, value: str) -> None:
        self._need("content")
        if not isinstance(value, str):
            raise JsonResponseError(f"'content' must be a string, not {value!r}.")
        self._data["content"] = value

    @property
    def begin_offset(self) -> int | None:
        self._need("begin_offset")
        return self._data.get("beginOffset")

    @begin_offset.setter
    def begin_offset(self, value: int) -> None:
        self._need("begin_offset")
        self._data["beginOffset"] = _check_offset("begin_offset", value)

    @property
    def end_offset(self) -> int | None:
        self._need("end_offset")
        return self._data.get("endOffset")

    @end_offset.setter
    def end_offset(self, value: int) -> None:
        self._need("end_offset")
        self._data["endOffset"] = _check_offset("end_offset", value)

    @property
    def annotations(self) -> list[PdfPosition]:
        self._need("annotations")
        return [PdfPosition(p) for p in _dicts(self._data.get("annotations"))]

    # relations
    def _ends(self, attribute: str, key: str) -> list[Json]:
        self._need(attribute)
        return _stored_list(self._data, key)

    @property
    def start_entities(self) -> list[Json]:
        return self._ends("start_entities", "startEntities")

    @property
    def end_entities(self) -> list[Json]:
        return self._ends("end_entities", "endEntities")

    @property
    def start_objects(self) -> list[Json]:
        return self._ends("start_objects", "startObjects")

    @property
    def end_objects(self) -> list[Json]:
        return self._ends("end_objects", "endObjects")


def _new_annotation(ctx: _Ctx, value: object, mids: set[Any]) -> Json:
    if not isinstance(value, Mapping):
        raise JsonResponseError(f"An annotation must be a dict, not {type(value).__name__}.")
    entry: Json = copy.deepcopy(dict(value))
    mid = _check_mid(entry.setdefault("mid", new_id()))
    if mid in mids:
        raise JsonResponseError(f"Job '{ctx.job.name}' already has an annotation with mid {mid!r}.")
    if "type" in entry or ctx.task in _OBJECT_TASKS:
        _check_tool(ctx.job, entry.get("type"))
    _check_new_categories(ctx.job, entry.get("categories", []))
    for poly in entry.get("boundingPoly", []) if entry.get("type") in _POLY_TOOLS else []:
        _new_poly(entry["type"], poly)
    for key, attribute in (("beginOffset", "begin_offset"), ("endOffset", "end_offset")):
        if key in entry:
            _check_offset(attribute, entry[key])
    if entry.get("children") is not None:
        _check_jobs(ctx.scope.ontology, entry["children"])
    return entry


def _check_new_categories(job: Job, categories: object) -> None:
    if not isinstance(categories, list) or not all(isinstance(c, dict) for c in categories):
        raise JsonResponseError(f"'categories' must be a list of {{'name': ...}}, not {categories!r}.")
    for category in categories:
        _check_category_name(job, category.get("name"))
    if job.is_single_choice and len(categories) > 1:
        raise JsonResponseError(f"Job '{job.name}' is single choice ({job.input}); an annotation holds one category.")


class AnnotationList(Sequence[Annotation]):
    """The annotations of a job's answer."""

    def __init__(self, owner: _Slot, ctx: _Ctx) -> None:
        self._owner = owner
        self._ctx = ctx

    def _items(self) -> list[Json]:
        return _stored_list(self._owner.read(), "annotations")

    @overload
    def __getitem__(self, index: int) -> Annotation: ...

    @overload
    def __getitem__(self, index: slice) -> list[Annotation]: ...

    def __getitem__(self, index: int | slice) -> Annotation | list[Annotation]:
        if isinstance(index, slice):
            return [Annotation(a, self._ctx) for a in self._items()[index]]
        return Annotation(self._items()[index], self._ctx)

    def __len__(self) -> int:
        return len(self._items())

    def add_annotation(self, annotation: Mapping[str, Any]) -> Annotation:
        """Append an annotation (a jsonResponse-shaped dict; a missing ``mid`` is generated)."""
        mids = {a.get("mid") for a in self._items() if isinstance(a, dict)}
        entry = _new_annotation(self._ctx, annotation, mids)
        _list_in(self._owner.write(), "annotations").append(entry)
        return Annotation(entry, self._ctx)

    def as_list(self) -> list[Json]:
        return copy.deepcopy(self._items())

    def __repr__(self) -> str:
        return f"AnnotationList({self._items()!r})"


# -- labels ----------------------------------------------------------------------------------------


def _as_ontology(json_interface: Mapping[str, Any] | Ontology) -> Ontology:
    if isinstance(json_interface, Ontology):
        return json_interface
    return Ontology.from_json(dict(json_interface) if isinstance(json_interface, Mapping) else json_interface)


def _load_response(value: object) -> Json:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise JsonResponseError(f"The label's jsonResponse is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise JsonResponseError(f"The label's jsonResponse must be a JSON object, not {type(value).__name__}.")
    return value


def _is_video(input_type: str, response: Json) -> bool:
    return "VIDEO" in input_type and all(isinstance(k, str) and k.isdigit() for k in response)


def _parse_response(scope: _Scope, response: Json) -> ParsedJobs:
    if scope.video:
        for frame in response.values():
            _check_jobs(scope.ontology, frame)
        return _video_jobs(scope, response)
    _check_jobs(scope.ontology, response)
    declared = [job.name for job in scope.ontology.root_jobs]
    return _jobs_over(scope, declared, _Slot(response))


class ParsedLabel(dict[str, Any]):
    """A label as a dict (a deep copy, without ``jsonResponse``) with its answers in ``.jobs``.

    ``.json_response`` rebuilds the jsonResponse from the parsed (possibly edited) answers and
    ``.to_dict()`` gives the whole label back; ``repr`` and ``str`` print that dict.
    """

    def __init__(
        self,
        label: Mapping[str, Any],
        json_interface: Mapping[str, Any] | Ontology,
        input_type: str,
    ) -> None:
        data = copy.deepcopy(dict(label))
        keys = list(data)
        self._response_index = keys.index("jsonResponse") if "jsonResponse" in keys else len(keys)
        response = _load_response(data.pop("jsonResponse", None))
        super().__init__(data)
        input_type = str(input_type or "")
        scope = _Scope(_as_ontology(json_interface), input_type, _is_video(input_type, response))
        self._response = response
        self.jobs: ParsedJobs = _parse_response(scope, response)

    @property
    def json_response(self) -> Json:
        """The jsonResponse rebuilt from the parsed answers (a new dict)."""
        return copy.deepcopy(self._response)

    def to_dict(self) -> Json:
        """The label with its ``jsonResponse`` restored (at its original position)."""
        items = list(copy.deepcopy(dict(self)).items())
        items.insert(min(self._response_index, len(items)), ("jsonResponse", self.json_response))
        return dict(items)

    def __bool__(self) -> bool:
        """A parsed label is always truthy, even when jsonResponse was its only field, so that
        ``if asset["latestLabel"]:`` tells a labeled asset from an unlabeled one."""
        return True

    def __repr__(self) -> str:
        return repr(self.to_dict())

    def __str__(self) -> str:
        return str(self.to_dict())


@overload
def parse_labels(  # type: ignore[overload-overlap]  # a list gives a list; any other iterable, an iterator
    labels: list[Mapping[str, Any]],
    json_interface: Mapping[str, Any] | Ontology,
    input_type: str,
) -> list[ParsedLabel]: ...


@overload
def parse_labels(
    labels: Iterable[Mapping[str, Any]],
    json_interface: Mapping[str, Any] | Ontology,
    input_type: str,
) -> Iterator[ParsedLabel]: ...


def parse_labels(
    labels: Iterable[Mapping[str, Any]],
    json_interface: Mapping[str, Any] | Ontology,
    input_type: str,
) -> list[ParsedLabel] | Iterator[ParsedLabel]:
    """Parse labels: a list gives a list; any other iterable gives a lazy generator.

    The ontology is validated once, before the first label.
    """
    ontology = _as_ontology(json_interface)
    if isinstance(labels, list):
        return [ParsedLabel(label, ontology, input_type) for label in labels]
    return (ParsedLabel(label, ontology, input_type) for label in labels)
