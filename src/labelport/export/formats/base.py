"""The contract of an export format: a spec in the registry and a writer.

A writer never touches the database: the pipeline calls ``open()``, ``write_asset(asset)`` for each
exported asset, then ``close()``; the writer adds members to ``ctx.archive`` and counts what it wrote
or skipped in ``ctx.report``.

A spec declares how the format takes each of :data:`FORMAT_OPTIONS` (:class:`Honoured`, :class:`Refused`
or :class:`Unused`); the pipeline checks them, in one place, before anything is written
(``pipeline.check_options``) and adds the notes of the options a format does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from labelport.errors import IncompatibleFormatError, in_words_of
from labelport.export.model import ExportAsset, ExportContext, ExportOptions
from labelport.export.report import Tally
from labelport.ontology import Job


class Writer:
    """Base class of the format writers."""

    def __init__(self, ctx: ExportContext) -> None:
        self.ctx = ctx

    def open(self) -> None:
        """Called once before the first asset."""

    def write_asset(self, asset: ExportAsset) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called once after the last asset: write what depends on all of them."""


class StagedWriter(Writer):
    """A writer whose work on an asset comes in two stages, so that the first can run in other processes
    (``export/parallel.py``) while this one writes:

    - :meth:`convert` turns the asset into what the format writes (rows, XML, JSON bytes), from the asset
      and the state :meth:`setup` derives from the context alone; it never touches the archive, the report
      or anything earlier assets changed, and tells what it skipped or wrote to a :class:`Tally`;
    - :meth:`emit`, called in export order, does what depends on the assets before (unique names, ids,
      counters), writes to the archive and tells the tally to the report.

    ``write_asset`` runs both, so a serial export and a parallel one run the same code.
    """

    def setup(self) -> None:
        """The state :meth:`convert` needs, from ``self.ctx`` (options, jobs, ontology) only. Called by
        :meth:`open`, and in each worker process of a parallel export instead of :meth:`open`."""

    def convert(self, asset: ExportAsset, tally: Tally) -> Any:
        raise NotImplementedError

    def emit(self, asset: ExportAsset, converted: Any, tally: Tally) -> None:
        raise NotImplementedError

    def parallel(self) -> bool:
        """Whether this export may convert in other processes (not when a Python callback is involved)."""
        return True

    def write_asset(self, asset: ExportAsset) -> None:
        tally = Tally()
        self.emit(asset, self.convert(asset, tally), tally)


#: The export options whose meaning depends on the format, in the order they are checked (that of
#: :class:`ExportOptions`). Every :class:`FormatSpec` says how it takes each of them.
FORMAT_OPTIONS = (
    "layout",
    "single_file",
    "with_assets",
    "normalized_coordinates",
    "annotation_modifier",
    "split",
    "dataset_root",
    "dataset_layout",
)
#: Each option's default, from :class:`ExportOptions`: an option is given when its value differs from it.
OPTION_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(ExportOptions) if f.name in FORMAT_OPTIONS}


@dataclass(frozen=True)
class Honoured:
    """The format takes the option, whatever its value."""


@dataclass(frozen=True)
class Refused:
    """Values of an option the format cannot honour, refused before anything is written: the error
    (:func:`refuse`) names the option, its value and the format, says ``why`` and what to do (``fix``).

    ``values``: the refused values; None: any value but the option's default. Other values are honoured.
    In ``why`` and ``fix``, ``{formats}`` becomes the formats that honour the option in every value
    (``coco, yolo_v5, yolo_v7, yolo_v8``), and ``{formats_or}`` the same ending in "or"
    (``yolo_v5, yolo_v7 or yolo_v8``).
    """

    why: str
    fix: str
    values: tuple[object, ...] | None = None

    def refuses(self, option: str, value: object) -> bool:
        if self.values is None:
            return value != OPTION_DEFAULTS[option]
        return any(value is refused or (type(value) is type(refused) and value == refused) for refused in self.values)


@dataclass(frozen=True)
class Unused:
    """An option the format accepts and does not use. When the option is given (not its default), the
    report says ``note`` (``{fmt}``: the format as the caller named it); None: nothing is said (an option
    that means nothing for the format, such as the Kili format's ``layout``)."""

    note: str | None = None


OptionRule = Honoured | Refused | Unused

HONOURED = Honoured()
#: The note of the COCO-only ``annotation_modifier`` in the formats that never call it.
MODIFIER_NOT_CALLED = Unused("annotation_modifier is a COCO option: {fmt} does not call it")
#: ``split`` in a format without a train/val/test layout.
NO_SPLIT = Refused(
    "the format has no train/val/test layout", "Use a format that writes splits ({formats}), or leave split out"
)
#: ``dataset_root`` outside YOLO split exports.
NO_DATASET_ROOT = Refused(
    "only YOLO split exports write a data.yaml, whose path it sets",
    "Use it with {formats_or} and split=..., or leave dataset_root out",
)


#: ``dataset_layout="standard"`` in a format that has one layout.
OWN_LAYOUT_ONLY = Refused(
    "the format has one layout, its own",
    "Use a format that writes a standard dataset layout ({formats}), or leave dataset_layout out",
)


def standard_layout(options: ExportOptions) -> bool:
    """Whether the export writes the standard dataset layout (``dataset_layout="standard"``)."""
    return options.dataset_layout == "standard"


@dataclass(frozen=True)
class AssetRule:
    """What an asset of an IMAGE project must be for a format to export it (GeoJSON: georeferenced): a test of
    its jsonContent, and the words for the refusal. The pipeline refuses, before anything is written, a
    selection where no asset passes (the writer reports each asset that does not)."""

    accepts: Callable[[str], bool]
    #: "is georeferenced", for "none of the 4 assets selected is georeferenced".
    adjective: str
    #: Why, and what it means: "format 'geojson' exports georeferenced assets only (…)".
    needs: str


@dataclass(frozen=True)
class FormatSpec:
    """One export format: what it accepts and how it writes."""

    name: str
    writer: type[Writer]
    input_types: frozenset[str]
    media_folder: str
    #: Which jobs the format exports (``None``: every job).
    job_filter: Callable[[Job], bool] | None
    #: In words, for errors: "an OBJECT_DETECTION job with rectangle, polygon or semantic tools".
    needs: str
    #: How the format takes each of :data:`FORMAT_OPTIONS`: every one of them, and no other, is declared.
    options: Mapping[str, OptionRule] = field(hash=False)
    #: Whether one output holds one label (COCO, YOLO, VOC, GeoJSON): with several labels per asset,
    #: each gets its own output, suffixed ``_label1``, ``_label2``…
    one_label_per_output: bool = True
    #: Whether the format holds one job per label (Kili's legacy ``simple``): a project with more than one
    #: root job is refused before anything is written.
    one_job: bool = False
    #: IMAGE projects: what an exported asset must be (None: any asset); see :class:`AssetRule`.
    image_asset_rule: AssetRule | None = None

    def __post_init__(self) -> None:
        declared = set(self.options)
        if declared != set(FORMAT_OPTIONS) or not all(
            isinstance(rule, Honoured | Refused | Unused) for rule in self.options.values()
        ):
            missing = ", ".join(option for option in FORMAT_OPTIONS if option not in declared) or "none"
            unknown = ", ".join(sorted(declared - set(FORMAT_OPTIONS))) or "none"
            raise IncompatibleFormatError(
                f"Format {self.name!r} must declare how it takes each of {', '.join(FORMAT_OPTIONS)}, with "
                f"Honoured(), Refused(why, fix, values) or Unused(note) (missing: {missing}; unknown: {unknown})."
            )

    def honours(self, option: str) -> bool:
        """Whether the format takes ``option`` in every value."""
        return isinstance(self.options[option], Honoured)

    def compatible_jobs(self, jobs: list[Job]) -> list[Job]:
        return [job for job in jobs if self.job_filter is None or self.job_filter(job)]


def split_of(options: ExportOptions, asset: ExportAsset) -> str | None:
    """An asset's split in a split export (None without one): the pipeline's, else by hash."""
    if options.split is None:
        return None
    return asset.split if asset.split in options.split.names else options.split.by_hash(asset.external_id)


def refuse(option: str, value: object, fmt: str, why: str, fix: str) -> IncompatibleFormatError:
    """The error for an option a format cannot honour: names the option (as the caller spells it: the Python
    argument, or the command line's option), the format and what to do."""
    named = in_words_of(f"{option}={value!r}", _cli_option(option, value))
    fix = in_words_of(fix, _cli_words(fix))
    return IncompatibleFormatError(f"Option {named} cannot be used with format {fmt!r}: {why}. {fix}.")


#: The advice of refusals (``Refused.fix``) in the command line's words, longest first.
_CLI_WORDS = (
    ("Leave normalized_coordinates=None (the default)", "Leave out --normalized-coordinates and --pixel-coordinates"),
    (
        "Use normalized_coordinates=None (the default) or False",
        "Leave out --normalized-coordinates (the default), or pass --pixel-coordinates",
    ),
    (
        "Use normalized_coordinates=None (the default) or True",
        "Leave out --pixel-coordinates (the default), or pass --normalized-coordinates",
    ),
    ("Use single_file=False (the default)", "Leave out --single-file (the default)"),
    ("and split=..., or leave dataset_root out", "and --split, or leave --dataset-root out"),
    ("Leave dataset_root out", "Leave --dataset-root out"),
    ("leave split out", "leave --split out"),
)


def _cli_words(text: str) -> str:
    for python, cli in _CLI_WORDS:
        text = text.replace(python, cli)
    return text


def _cli_option(option: str, value: object) -> str:
    """``--single-file``, ``--split train=0.8,val=0.2``: an export option as ``labelport project export`` takes it."""
    if option == "single_file":
        return "--single-file"
    if option == "with_assets":
        return "--with-assets" if value else "--without-assets"
    if option == "normalized_coordinates":
        return "--normalized-coordinates" if value else "--pixel-coordinates"
    if option == "split" and isinstance(value, Mapping):
        return "--split " + ",".join(f"{name}={fraction}" for name, fraction in value.items())
    if option in ("layout", "dataset_root"):
        return f"--{option.replace('_', '-')} {value}"
    return f"{option}={value!r}"


def object_job(tools: frozenset[str], all_tools: bool) -> Callable[[Job], bool]:
    """Jobs of OBJECT_DETECTION whose tools are all (or any) among ``tools``."""

    def accepts(job: Job) -> bool:
        if job.ml_task != "OBJECT_DETECTION" or not job.tools:
            return False
        found = [tool in tools for tool in job.tools]
        return all(found) if all_tools else any(found)

    return accepts
