"""Safe, unique member names derived from external ids.

An external id may hold anything; an archive member must not escape the archive (``..``, absolute
paths), must be valid on Windows, macOS and Linux, and must not overwrite another asset's file.
``/`` keeps meaning a folder, as in Kili's exports.

The rule every format follows (:class:`NameAllocator`): each asset gets a *name* (``folder/img_3``), and
its files are that name followed by an *ending* (``.txt``, ``.png``, ``_01.xml`` for a video frame), in
one or more of the format's folders. Compared as file systems compare them (:func:`name_key`: Unicode
canonical equivalence and case ignored, as on macOS and Windows), no file may have the name of another
file, nor the name of a folder that holds another file, whatever the order the assets come in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from array import array
from collections.abc import Sequence

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*]')
#: Windows' reserved device names, with or without an extension (``COM¹`` is U+00B9: Windows reserves
#: the superscript digits 1 to 3 as well).
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"{port}{digit}" for port in ("com", "lpt") for digit in "0123456789¹²³")}
)
_MAX_SEGMENT = 180
_FIRST_SLOTS = 1024  # a power of two, as every size of the DigestSet table
IMAGE_SUFFIXES = frozenset({".jpeg", ".jpg", ".png", ".bmp", ".gif", ".webp", ".ico", ".tif", ".tiff"})
#: A media suffix kept in names: a dot and up to 16 letters, digits, ``_`` or ``-`` (``.jpg``, ``.jp2``).
_PLAIN_SUFFIX = re.compile(r"\.[0-9a-z_-]{1,16}")


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


def safe_suffix(suffix: str) -> str:
    """A media file's suffix as names use it: lower case, and ``""`` unless it is a dot followed by up to
    16 letters, digits, ``_`` or ``-`` (``.png`` stays; ``.``, ``.a:b`` and ``.ｐｎｇ`` are dropped: Windows
    trims a trailing dot and rejects ``:``)."""
    suffix = suffix.lower()
    return suffix if suffix.isascii() and _PLAIN_SUFFIX.fullmatch(suffix) else ""


def strip_image_suffix(name: str) -> str:
    """``image/1.jpg`` → ``image/1``: label files are named after the image without its extension.

    Kept whole when what remains would end with a dot (``x..png``): Windows trims trailing dots."""
    stem, dot, suffix = name.rpartition(".")
    if dot and "/" not in suffix and f".{suffix.lower()}" in IMAGE_SUFFIXES and stem and not stem.endswith(("/", ".")):
        return stem
    return name


def with_suffix(name: str, suffix: str) -> str:
    """``a.png`` stays, ``a`` becomes ``a.png`` (the suffix added unless the name ends with it, in any case)."""
    return name if name.lower().endswith(suffix) else name + suffix


def name_key(name: str) -> str:
    """The form in which two names are compared: Unicode canonical caseless matching (case folded, then
    NFC), so that ``café`` precomposed and decomposed (``cafe`` + U+0301, as macOS writes it), ``Café`` and
    ``CAFÉ`` have one key, as do ``Straße`` and ``STRASSE``. macOS (APFS, HFS+) ignores case and
    normalization by default, Windows (NTFS) case; Linux neither, so its twins are kept apart too."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


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
        self.add_digest(_digest(name))

    def has_digest(self, digest: int) -> bool:
        """Whether the name of this digest (``_digest(name)``) is in the set."""
        return self._table[self._slot(digest)] != 0

    def add_digest(self, digest: int) -> None:
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
    """Hands out one name per asset such that its files (the name followed by each of its endings) never
    collide with the files named before, as file systems compare names (:func:`name_key`):

    - no file has the name of an earlier file, nor of a folder holding an earlier file: the name gets
      ``__2``, ``__3``… appended (before the endings);
    - no folder of the name is an earlier file: that folder's segment gets ``__2``, ``__3``… (``img.png/b``
      after the file ``img.png`` becomes ``img.png__2/b``).

    A format whose files of one asset lie in several folders (YOLO's ``labels/x.txt`` and ``images/x.png``)
    allocates all their endings at once, as if they shared one folder: the asset keeps one name everywhere,
    so its files stay paired. Only 64-bit digests of the keys are kept (:class:`DigestSet`), of the files
    and of the folders named, so memory stays flat per asset.

    Every name that differs from the asset's external id's safe form is recorded in ``renamed`` (a list that
    several allocators of one writer may share).
    """

    def __init__(self, renamed: list[tuple[str, str]] | None = None) -> None:
        self._files = DigestSet()
        self._folders = DigestSet()
        self.renamed: list[tuple[str, str]] = [] if renamed is None else renamed
        # the last folder resolved, as given and as named: assets often come folder by folder
        self._parent = self._resolved = ""

    def claim(self, base: str, endings: Sequence[str] = ("",)) -> str:
        """A name for files ``<name><ending>``, ``base`` or ``base`` with counters; taken from here on."""
        files, folders = self._files, self._folders
        cut = base.rfind("/")
        if cut < 0:
            stem = base
        else:
            parent = base[:cut]
            if parent != self._parent:
                self._parent, self._resolved = parent, self._folder(parent)
            stem = self._resolved + base[cut:]
        name, counter = stem, 2
        while True:
            digests = [_digest(name_key(name + ending)) for ending in endings]
            if not any(files.has_digest(d) or folders.has_digest(d) for d in digests):
                break
            name, counter = f"{stem}__{counter}", counter + 1
        for digest in digests:
            files.add_digest(digest)
        return name

    def _folder(self, parent: str) -> str:
        """The folder ``parent`` as named: each of its folders that is an earlier file gets a counter on its
        segment; all of them are folders from here on, so no later file takes their name. (So the same
        ``parent`` is always named the same: a folder never becomes a file, and files are never removed.)"""
        files, folders = self._files, self._folders
        resolved = ""
        for segment in parent.split("/"):
            candidate, counter = resolved + segment, 2
            digest = _digest(name_key(candidate))
            while files.has_digest(digest):
                candidate, counter = f"{resolved}{segment}__{counter}", counter + 1
                digest = _digest(name_key(candidate))
            folders.add_digest(digest)
            resolved = candidate + "/"
        return resolved[:-1]

    def allocate(self, external_id: str, base: str, endings: Sequence[str] = ("",)) -> str:
        """The asset's name (:meth:`claim`), recorded as renamed when it is not its external id made safe."""
        name = self.claim(base, endings)
        if name != base or _unsafe_changed(external_id, base):
            self.renamed.append((external_id, name))
        return name

    def media(self, external_id: str, base: str, plain: str, suffix: str, folder: str) -> str:
        """The member ``<folder>/<name><suffix>`` of an asset's media file (a counter goes before the suffix:
        ``a__2.png``), from ``base``, its name made safe (with the suffix already, or without);
        recorded as renamed (the member) when it is not ``plain``, the external id with spaces as ``_``
        (frame numbers added as in ``base``), with the suffix."""
        full = with_suffix(base, suffix)
        ending = full[len(full) - len(suffix) :]
        name = self.claim(full[: len(full) - len(suffix)], (ending,))
        if name + ending != with_suffix(plain, suffix):
            self.renamed.append((external_id, f"{folder}/{name}{ending}"))
        return f"{folder}/{name}{ending}"


def _unsafe_changed(external_id: str, base: str) -> bool:
    """Whether making the id safe changed more than Kili's own space → underscore."""
    expected = external_id.replace(" ", "_")
    return base != expected and strip_image_suffix(expected) != base
