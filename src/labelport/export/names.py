"""Safe, unique member names derived from external ids.

An external id may hold anything; an archive member must not escape the archive (``..``, absolute
paths), must be valid on Windows, macOS and Linux, and must not overwrite another asset's file.
``/`` keeps meaning a folder, as in Kili's exports.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
_MAX_SEGMENT = 180
IMAGE_SUFFIXES = frozenset({".jpeg", ".jpg", ".png", ".bmp", ".gif", ".webp", ".ico", ".tif", ".tiff"})


def safe_path(external_id: str) -> str:
    """A relative path built from an external id: unsafe characters become ``_``, spaces too."""
    segments = []
    for raw in external_id.replace("\\", "/").split("/"):
        segment = _UNSAFE.sub("_", raw.replace(" ", "_")).rstrip(". ")
        if segment in ("", "."):
            continue
        if segment == "..":
            segment = "__"
        if segment.split(".", 1)[0].lower() in _RESERVED:
            segment = "_" + segment
        if len(segment.encode()) > _MAX_SEGMENT:
            digest = hashlib.sha256(segment.encode()).hexdigest()[:12]
            segment = segment.encode()[: _MAX_SEGMENT - 13].decode(errors="ignore") + "_" + digest
        segments.append(segment)
    return "/".join(segments) or "asset"


def strip_image_suffix(name: str) -> str:
    """``image/1.jpg`` → ``image/1``: label files are named after the image without its extension."""
    stem, dot, suffix = name.rpartition(".")
    if dot and "/" not in suffix and f".{suffix.lower()}" in IMAGE_SUFFIXES and stem and not stem.endswith("/"):
        return stem
    return name


def _digest(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


class DigestSet:
    """A set of names kept as 64-bit digests: about half the memory of the names themselves, which
    matters for exports of hundreds of thousands of files. Two different names share a digest with a
    probability of about n²/2⁶⁵ (3·10⁻⁸ for a million names); deterministic across runs."""

    def __init__(self) -> None:
        self._digests: set[int] = set()

    def __contains__(self, name: str) -> bool:
        return _digest(name) in self._digests

    def add(self, name: str) -> None:
        self._digests.add(_digest(name))

    def __len__(self) -> int:
        return len(self._digests)


class NameAllocator:
    """Hands out one unique name per asset; a taken name gets ``__2``, ``__3``… appended.

    Names compare case-insensitively, since two names that differ only by case collide on macOS
    and Windows. Every name that differs from the asset's external id's safe form is recorded.
    """

    def __init__(self) -> None:
        self._taken = DigestSet()
        self.renamed: list[tuple[str, str]] = []

    def allocate(self, external_id: str, base: str) -> str:
        name = base
        counter = 2
        while name.lower() in self._taken:
            name = f"{base}__{counter}"
            counter += 1
        self._taken.add(name.lower())
        if name != base or _unsafe_changed(external_id, base):
            self.renamed.append((external_id, name))
        return name


def _unsafe_changed(external_id: str, base: str) -> bool:
    """Whether making the id safe changed more than Kili's own space → underscore."""
    expected = external_id.replace(" ", "_")
    return base != expected and strip_image_suffix(expected) != base
