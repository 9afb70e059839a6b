"""Ontologies for imported data: built for COCO/YOLO/VOC jobs, inferred from Kili labels, matched to a project.

**Detection datasets** (COCO, YOLO, VOC) give one OBJECT_DETECTION job per dataset job, its
categories in the dataset's order (key and name are the class name), its tools those the
annotations use, in the order rectangle, polygon, semantic (``rectangle`` when it has no object).

**Inference from Kili labels** (no ``interface`` given) walks every label in the order of the file:

* jobs, and categories within a job, come in order of first appearance;
* a job answered with ``annotations`` is OBJECT_DETECTION when the annotations have a drawing
  ``type`` (its tools, in order of first appearance), NAMED_ENTITIES_RECOGNITION when they have
  ``beginOffset``/``beginId`` or PDF positions (``annotations``), NAMED_ENTITIES_RELATION with
  ``startEntities``, OBJECT_RELATION with ``startObjects``;
* a job answered with ``categories`` is a CLASSIFICATION, ``checkbox`` when an answer ticks several
  categories, else ``radio``; a job answered with ``text`` is a TRANSCRIPTION;
* a job named under an annotation's or a category's ``children`` is a child job
  (``isChild: true``), listed in that category's ``children``;
* pose categories get the point codes seen, in order of first appearance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from labelport.enums import SPECIAL_RESPONSE_KEYS, MLTask, Tool
from labelport.errors import DatasetError, OntologyError, a_or_an
from labelport.importers.dataset import Dataset, DetectionJob
from labelport.ontology import Job, Ontology

DEFAULT_JOB = "OBJECT_DETECTION_JOB"
_DETECTION_TOOLS = (Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC)
_DRAWING_TOOLS = frozenset(Tool) - {Tool.RANGE}


# -- detection datasets -----------------------------------------------------------------------------


def detection_interface(jobs: list[DetectionJob]) -> dict[str, Any]:
    """The jsonInterface of a new project for COCO/YOLO/VOC jobs."""
    spec: dict[str, Any] = {}
    for job in jobs:
        tools = [tool.value for tool in _DETECTION_TOOLS if tool in job.tools] or [Tool.RECTANGLE.value]
        spec[job.name] = {
            "mlTask": MLTask.OBJECT_DETECTION.value,
            "tools": tools,
            "instruction": job.name,
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {key: {"name": key, "children": []} for key in job.categories}},
        }
    return {"jobs": spec}


@dataclass
class Mapping:
    """Where a detection dataset's jobs and categories go in a given ontology."""

    jobs: dict[str, str] = field(default_factory=dict)
    categories: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def identity(self) -> bool:
        return all(a == b for a, b in self.jobs.items()) and all(k[1] == v for k, v in self.categories.items())


def match_detection(jobs: list[DetectionJob], ontology: Ontology, where: str) -> Mapping:
    """Map each dataset job and category onto ``ontology``; an error names what is missing.

    A job maps to the ontology job of the same name, else, for a one-job dataset, to the only root
    OBJECT_DETECTION job; a category maps to the category with that key, else to the only one with
    that name."""
    mapping = Mapping()
    detection = [job for job in ontology.root_jobs if job.ml_task == MLTask.OBJECT_DETECTION]
    for job in jobs:
        target = ontology.jobs.get(job.name)
        if target is None and len(jobs) == 1 and len(detection) == 1:
            target = detection[0]
        if target is None:
            listed = ", ".join(j.name for j in detection) or "none"
            raise DatasetError(
                f"Job {job.name!r} of the dataset is not in {where}, whose OBJECT_DETECTION jobs are: {listed}; "
                "pass job_name=<one of them> (or add the job to the ontology)."
            )
        if target.ml_task != MLTask.OBJECT_DETECTION:
            raise DatasetError(
                f"Job {target.name!r} of {where} is {a_or_an(target.ml_task)} job; the dataset's boxes and polygons "
                "need an OBJECT_DETECTION job."
            )
        for tool in sorted(job.tools):
            if not target.allows_tool(tool):
                raise DatasetError(
                    f"Job {target.name!r} of {where} has no {str(tool)!r} tool, which the dataset's annotations need "
                    f"(its tools: {', '.join(target.tools)}); add the tool to the job."
                )
        mapping.jobs[job.name] = target.name
        for key in job.categories:
            mapping.categories[(job.name, key)] = _category(target, key, where)
    return mapping


def _category(job: Job, key: str, where: str) -> str:
    if key in job.categories:
        return key
    named = [category.key for category in job.categories.values() if category.name == key]
    if len(named) == 1:
        return named[0]
    listed = ", ".join(f"{c.key} ({c.name})" for c in job.categories.values())
    raise DatasetError(
        f"Category {key!r} of the dataset is not in job {job.name!r} of {where} (categories: {listed}); "
        "add it to the job or rename it in the dataset."
    )


def apply_mapping(dataset: Dataset, mapping: Mapping) -> None:
    """Rename the jobs and categories of every label to those of the target ontology."""
    if mapping.identity:
        return
    for asset in dataset.assets:
        for label in asset.labels:
            renamed: dict[str, Any] = {}
            for job_name, value in label.json_response.items():
                target = mapping.jobs.get(job_name, job_name)
                for annotation in value.get("annotations", []):
                    for category in annotation["categories"]:
                        category["name"] = mapping.categories.get((job_name, category["name"]), category["name"])
                if target in renamed:
                    renamed[target]["annotations"].extend(value.get("annotations", []))
                else:
                    renamed[target] = value
            label.json_response = renamed


# -- Kili labels ------------------------------------------------------------------------------------


@dataclass
class _Job:
    task: str | None = None
    tools: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)  # key → child jobs
    points: dict[str, list[str]] = field(default_factory=dict)  # pose category → point codes
    multiple: bool = False
    is_child: bool = False
    seen_at: str = ""


class _Inference:
    def __init__(self) -> None:
        self.jobs: dict[str, _Job] = {}

    def response(self, response: dict[str, Any], origin: str) -> None:
        frames = list(response.values()) if response and all(k.isdigit() for k in response) else [response]
        for frame in frames:
            if isinstance(frame, dict):
                for name, value in frame.items():
                    if name not in SPECIAL_RESPONSE_KEYS:
                        self.job(name, value, origin, is_child=False)

    def job(self, name: str, value: Any, origin: str, *, is_child: bool) -> _Job:
        job = self.jobs.setdefault(name, _Job(seen_at=origin))
        job.is_child = job.is_child or is_child
        if not isinstance(value, dict):
            return job
        if isinstance(value.get("annotations"), list):
            for annotation in value["annotations"]:
                if isinstance(annotation, dict):
                    self.annotation(name, job, annotation, origin)
        elif isinstance(value.get("categories"), list):
            self.task(name, job, MLTask.CLASSIFICATION, origin)
            entries = [e for e in value["categories"] if isinstance(e, dict) and isinstance(e.get("name"), str)]
            job.multiple = job.multiple or len(entries) > 1
            for entry in entries:
                self.category(job, entry["name"], entry.get("children"), origin)
        elif isinstance(value.get("text"), str):
            self.task(name, job, MLTask.TRANSCRIPTION, origin)
        return job

    def annotation(self, name: str, job: _Job, annotation: dict[str, Any], origin: str) -> None:
        tool = annotation.get("type")
        if isinstance(tool, str) and tool in _DRAWING_TOOLS:
            self.task(name, job, MLTask.OBJECT_DETECTION, origin)
            if tool not in job.tools:
                job.tools.append(tool)
        elif "startEntities" in annotation or "endEntities" in annotation:
            self.task(name, job, MLTask.NAMED_ENTITIES_RELATION, origin)
        elif "startObjects" in annotation or "endObjects" in annotation:
            self.task(name, job, MLTask.OBJECT_RELATION, origin)
        elif "beginOffset" in annotation or "beginId" in annotation or "annotations" in annotation:
            self.task(name, job, MLTask.NAMED_ENTITIES_RECOGNITION, origin)
        else:
            raise DatasetError(
                f"{origin}: cannot tell the task of job {name!r} from its annotation (no drawing 'type', "
                "no text offsets, no relation ends); give the ontology with interface=<jsonInterface or file>."
            )
        categories = annotation.get("categories")
        for entry in categories if isinstance(categories, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                self.category(job, entry["name"], annotation.get("children"), origin)
                if tool == Tool.POSE:
                    self.points(job, entry["name"], annotation.get("points"))

    def category(self, job: _Job, key: str, children: Any, origin: str) -> None:
        listed = job.categories.setdefault(key, [])
        if isinstance(children, dict):
            for child_name, child_value in children.items():
                if child_name not in listed:
                    listed.append(child_name)
                self.job(child_name, child_value, origin, is_child=True)

    def points(self, job: _Job, key: str, points: Any) -> None:
        codes = job.points.setdefault(key, [])
        for point in points if isinstance(points, list) else []:
            code = point.get("code") if isinstance(point, dict) else None
            if isinstance(code, str) and code not in codes:
                codes.append(code)

    def task(self, name: str, job: _Job, task: str, origin: str) -> None:
        if job.task is not None and job.task != task:
            raise DatasetError(
                f"{origin}: job {name!r} is answered as {a_or_an(task)} here but as {a_or_an(job.task)} in "
                f"{job.seen_at}; "
                "give the ontology with interface=<jsonInterface or file>."
            )
        job.task = task

    def interface(self) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        for name, job in self.jobs.items():
            if job.task is None or (job.task != MLTask.TRANSCRIPTION and not job.categories):
                raise DatasetError(
                    f"{job.seen_at}: job {name!r} has no answer in any label to infer its task and categories "
                    "from; give the ontology with interface=<jsonInterface or file>."
                )
            spec[name] = _job_spec(name, job)
        return {"jobs": spec}


def _job_spec(name: str, job: _Job) -> dict[str, Any]:
    spec: dict[str, Any] = {"mlTask": job.task, "instruction": name, "required": 0, "isChild": job.is_child}
    if job.task == MLTask.TRANSCRIPTION:
        spec["content"] = {"input": "textField"}
        return spec
    if job.tools:
        spec["tools"] = list(job.tools)
    categories: dict[str, Any] = {}
    for key, children in job.categories.items():
        category: dict[str, Any] = {"name": key, "children": list(children)}
        if job.points.get(key):
            category["points"] = [{"code": code, "name": code} for code in job.points[key]]
        categories[key] = category
    kind = "checkbox" if job.multiple else "radio"
    spec["content"] = {"input": kind, "categories": categories}
    return spec


def infer_interface(responses: Iterable[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """The jsonInterface that Kili labels imply (see the module docstring), from ``(response, origin)`` pairs."""
    inference = _Inference()
    for response, origin in responses:
        inference.response(response, origin)
    if not inference.jobs:
        raise DatasetError(
            "No label names a job, so the ontology cannot be inferred; give it with interface=<jsonInterface or file>."
        )
    return inference.interface()


def check_interface(interface: Any, where: str) -> Ontology:
    """The validated ontology, or an error saying where it came from."""
    try:
        return Ontology.from_json(interface)
    except OntologyError as error:
        raise DatasetError(f"{where}: {error}") from None
