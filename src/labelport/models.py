"""Domain models the services, the export pipeline and the importers share.

They are small, immutable descriptions read once per call from the store: what a project is (its
ontology and quality settings) and which asset a caller named. They carry no connection and do no
I/O, so every layer may use them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from labelport.ontology import Ontology


@dataclass(frozen=True)
class ProjectInfo:
    """What services need to know about a project, read once per call."""

    pk: int
    id: str
    title: str
    input_type: str
    ontology: Ontology
    consensus_tot_coverage: int
    min_consensus_size: int
    use_honeypot: bool


@dataclass(frozen=True)
class AssetRef:
    """An asset named by a caller (by id or by external id), resolved to its keys."""

    pk: int
    id: str
    external_id: str
    project_pk: int


def in_consensus(external_id: str, coverage: int) -> bool:
    """Whether an asset is drawn for consensus: a stable draw from its external id, ``coverage`` %."""
    return zlib.crc32(external_id.encode()) % 100 < coverage
