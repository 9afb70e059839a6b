"""Safe, unique member names derived from external ids.

An external id may hold anything; an archive member must not escape the archive (``..``, absolute
paths), must be valid on Windows, macOS and Linux, and must not overwrite another asset's file.
``/`` keeps meaning a folder, as in Kili's exports.
"""

from __future__ import annotations

import hashlib
import re
from array import array

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
_MAX_SEGMENT = 180
_FIRST_SLOTS = 1024  # a power of two, as every size of the DigestSet table
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
    """The name's 64-bit digest, never 0 (0 marks an empty slot of :class:`DigestSet`)."""
    value = int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
    return value or 1


class DigestSet:
    """A set of names kept as 64-bit digests in one flat table (open addressing, linear probing,
    doubled when half full): 16 to 32 bytes per name, where a Python set of digests needs about
    120 and the names themselves more. This is what an export keeps per file it writes, so it is
    what bounds export memory for hundreds of thousands of files. Two different names share a digest with
    a probability of about n²/2⁶⁵ (3·10⁻⁸ for a million names); deterministic across runs."""

    def __init__(self) -> None:
        self._table = array("Q", bytes(8 * _FIRST_SLOTS))
        self._mask = _FIRST_SLOTS - 1
        self._count = 0

    def _slot(self, digest: int) -> int:
        """The slot that holds ``digest``, or the empty slot where it would go."""
        table, mask = self._table, self._mask
        slot = digest & mask
        while True:
            found = table[slot]
            if found == digest or found == 0:
                return slot
            slot = (slot + 1) & mask

    def __contains__(self, name: str) -> bool:
        return self._table[self._slot(_digest(name))] != 0

    def add(self, name: str) -> None:
        digest = _digest(name)
        slot = self._slot(digest)
        if self._table[slot] == 0:
            self._table[slot] = digest
            self._count += 1
            if 2 * self._count > len(self._table):
                self._grow()

    def _grow(self) -> None:
        old = self._table
        self._table = array("Q", bytes(16 * len(old)))
        self._mask = len(self._table) - 1
        for digest in old:
            if digest:
                self._table[self._slot(digest)] = digest

    def __len__(self) -> int:
        return self._count


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
