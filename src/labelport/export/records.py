"""The files of the Kili-shaped formats (``kili``, ``simple``): one JSON record per asset, as
``labels/<name>.json`` or all of them in ``data.json``, and the media under ``assets/``."""

from __future__ import annotations

from typing import Any

import orjson

from labelport.export.archive import compressed
from labelport.export.formats.base import StagedWriter
from labelport.export.model import ExportAsset
from labelport.export.names import NameAllocator, safe_path
from labelport.export.report import Tally
from labelport.export.zipwriter import Deflated, DeflatedPart

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


class RecordWriter(StagedWriter):
    """Writes what :meth:`record` makes of each asset; a format says what its record holds."""

    def record(self, asset: ExportAsset, tally: Tally, *, with_media: bool) -> dict[str, Any]:
        """The asset's record; ``with_media``: its media copied into the archive first (:meth:`emit` only,
        which allocates their names in export order), the record naming their members."""
        raise NotImplementedError

    def open(self) -> None:
        self.names = NameAllocator()  # labels/<name>.json
        self.media_names = NameAllocator(self.names.renamed)  # assets/<name><suffix>, renames reported alike
        # data.json is spooled (compressed as it comes), then written in close(): a zip takes one member at a
        # time, and media members are written while assets come.
        self.spool: DeflatedPart | None = self.ctx.archive.part() if self.ctx.options.single_file else None
        self.first = True

    def parallel(self) -> bool:
        return not self.ctx.options.with_assets  # the record names its media members, allocated in emit()

    def convert(self, asset: ExportAsset, tally: Tally) -> bytes | Deflated | None:
        """The asset's JSON record: compressed for its own member, or as it is for ``data.json`` (None with
        media: it is made in :meth:`emit`, which names them)."""
        if self.ctx.options.with_assets:
            return None
        data = orjson.dumps(self.record(asset, tally, with_media=False), option=_OPTIONS)
        return data if self.ctx.options.single_file else compressed(data)

    def emit(self, asset: ExportAsset, converted: bytes | Deflated | None, tally: Tally) -> None:
        if converted is None:
            converted = orjson.dumps(self.record(asset, tally, with_media=True), option=_OPTIONS)
        tally.tell(self.ctx.report)
        if self.spool is not None:
            assert isinstance(converted, bytes)
            if not self.first:
                self.spool.write(b",\n")
            self.spool.write(converted)
            self.first = False
            return
        name = self.names.allocate(asset.external_id, safe_path(asset.external_id), (".json",))
        if isinstance(converted, Deflated):
            self.ctx.archive.write_member(f"labels/{name}.json", converted)
        else:
            self.ctx.archive.write_bytes(f"labels/{name}.json", converted)
        self.ctx.report.files += 1

    def close(self) -> None:
        if self.spool is not None:
            with self.ctx.archive.open("data.json", large=True) as out:
                out.write(b"[\n")
                out.write_part(self.spool)
                out.write(b"\n]\n" if not self.first else b"]\n")
            self.spool.close()
            self.ctx.report.files += 1
        self.ctx.extras["renamed"] = self.names.renamed
