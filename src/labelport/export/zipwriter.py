"""A streaming zip writer whose memory does not grow with the number of members.

Python's :mod:`zipfile` keeps a ``ZipInfo`` (about half a kilobyte) for every member until the archive
is closed, to write the central directory then: 100 MB for an export of 200,000 label files. This
writer appends each member's central-directory record to a temporary file as soon as the member is
complete, and copies that file to the end of the archive on close. It writes what exports need and
nothing more: stored or deflated members, a fixed timestamp, UTF-8 names, and Zip64 records when a
member, an offset or the number of members exceeds the classic format's limits (APPNOTE 6.3.x).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, NamedTuple

STORED, DEFLATED = 0, 8
#: 1980-01-01 00:00:00 in MS-DOS format: the same bytes for the same contents, whenever exported.
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1
_UTF8_FLAG = 0x800
_VERSION = 20  # 2.0: deflate
_VERSION_ZIP64 = 45  # 4.5: Zip64
_MADE_BY_UNIX = 3 << 8
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_ZIP64_LOCAL_EXTRA = struct.Struct("<HHQQ")
#: Copy buffer: small, so that copying a spooled file into the archive adds little to the peak memory.
COPY_CHUNK = 1 << 16


class Deflated(NamedTuple):
    """A whole member's bytes deflated (raw deflate), with the CRC-32 and size of the original."""

    body: bytes
    crc: int
    size: int


def deflate(data: bytes, level: int) -> Deflated:
    """``data`` compressed as :meth:`ZipWriter.write_bytes` compresses a member at ``level``."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Deflated(compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data))


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of ``a + b`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)`` (zlib's method: appending
    ``length2`` zero bytes to ``a`` is a linear map over GF(2), applied by repeated squaring of the one-zero-bit
    operator; then the CRC of ``b`` is added)."""
    if length2 <= 0:
        return crc1
    operator = [0xEDB88320] + [1 << bit for bit in range(31)]  # one zero bit
    for _ in range(3):  # two, four, then eight zero bits: one zero byte
        operator = _gf2_square(operator)
    while True:  # operator appends 2**k zero bytes at step k
        if length2 & 1:
            crc1 = _gf2_times(operator, crc1)
        length2 >>= 1
        if not length2:
            break
        operator = _gf2_square(operator)
    return crc1 ^ crc2


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[row]) for row in range(32)]


class DeflatedPart:
    """A part of a deflated member, compressed as it is written into a temporary file, then put into the
    member by :meth:`_MemberWriter.write_part` without compressing it again.

    Big members assembled at the end of an export (COCO's ``images`` and ``annotations``, Kili's ``data.json``)
    are spooled this way: their compression happens while assets stream in, not all at once at the end. The
    part is a run of deflate blocks ending on a byte boundary (``Z_SYNC_FLUSH``) that refers to nothing before
    it, so it can follow any other run of blocks in a deflate stream; its CRC joins the member's with
    :func:`crc32_combine`.
    """

    def __init__(self, level: int) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.crc = 0
        self.size = 0
        self.compressed = 0
        self._compressor: Any = zlib.compressobj(level, zlib.DEFLATED, -15)
        #: Small writes (a COCO annotation is ~150 bytes) are gathered and compressed a block at a time;
        #: zlib's output does not depend on how its input is cut.
        self._pending = bytearray()

    def write(self, data: bytes | memoryview) -> None:
        self._pending += data
        if len(self._pending) >= COPY_CHUNK:
            self._compress()

    def _compress(self) -> None:
        data = self._pending
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        out = self._compressor.compress(data)
        if out:
            self.file.write(out)
            self.compressed += len(out)
        self._pending = bytearray()

    def _seal(self) -> None:
        if self._compressor is not None:
            self._compress()
            tail = self._compressor.flush(zlib.Z_SYNC_FLUSH)
            self.file.write(tail)
            self.compressed += len(tail)
            self._compressor = None

    def close(self) -> None:
        self.file.close()


class _MemberWriter:
    """The file-like object :meth:`ZipWriter.open` yields: compresses and checksums what is written."""

    def __init__(self, method: int, level: int) -> None:
        self.crc = 0
        self.size = 0
        self.compressed = 0
        self._level = level
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, -15) if method == DEFLATED else None
        self._out: IO[bytes] | None = None

    def write_part(self, part: DeflatedPart) -> None:
        """Add a :class:`DeflatedPart`'s data: copied as it is into a deflated member (the blocks written so
        far are flushed to a byte boundary, and a fresh compressor follows, since the part's data is not in
        the current one's window), decompressed into a stored one."""
        assert self._out is not None
        part._seal()
        part.file.seek(0)
        if self._compressor is None:
            inflater = zlib.decompressobj(-15)
            while chunk := part.file.read(COPY_CHUNK):
                self.write(inflater.decompress(chunk))
            return
        flushed = self._compressor.flush(zlib.Z_SYNC_FLUSH)
        self._out.write(flushed)
        self.compressed += len(flushed)
        shutil.copyfileobj(part.file, self._out, COPY_CHUNK)
        self.compressed += part.compressed
        self.crc = crc32_combine(self.crc, part.crc, part.size)
        self.size += part.size
        self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, -15)

    def write(self, data: bytes) -> int:
        assert self._out is not None
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        if self._compressor is not None:
            data = self._compressor.compress(data)
        self._out.write(data)
        self.compressed += len(data)
        return len(data)

    def _finish(self) -> None:
        assert self._out is not None
        if self._compressor is not None:
            tail = self._compressor.flush()
            self._out.write(tail)
            self.compressed += len(tail)


class ZipWriter:
    """Writes a zip archive to ``out`` (a seekable binary file), one member at a time."""

    def __init__(self, out: IO[bytes], level: int = 6) -> None:
        self._out = out
        self.level = self._level = level
        self._offset = out.tell()
        self._central: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._entries = 0
        self._open = False

    # -- members ----------------------------------------------------------------------------------

    def write_bytes(self, name: str, data: bytes, method: int) -> None:
        """A member whose bytes are all at hand: compressed first, written once, no seek."""
        if method == DEFLATED:
            self.write_deflated(name, deflate(data, self._level))
        else:
            self._write_body(name, STORED, data, zlib.crc32(data), len(data))

    def write_deflated(self, name: str, member: Deflated) -> None:
        """A member compressed beforehand by :func:`deflate` (perhaps in another process), with this
        writer's level: the same bytes as ``write_bytes(name, data, DEFLATED)``."""
        self._write_body(name, DEFLATED, member.body, member.crc, member.size)

    def _write_body(self, name: str, method: int, body: bytes, crc: int, size: int) -> None:
        self._check_idle()
        zip64 = size >= _MAX32 or len(body) >= _MAX32
        start = self._offset
        header = self._local_header(name, method, crc, len(body), size, zip64)
        self._out.write(header)
        self._out.write(body)
        self._offset += len(header) + len(body)
        self._record(name, method, crc, len(body), size, start, zip64)

    @contextmanager
    def open(self, name: str, method: int) -> Iterator[_MemberWriter]:
        """A member written piece by piece (big JSON files, media). Its local header carries a Zip64
        field, and its sizes and checksum are filled in once the member is complete."""
        self._check_idle()
        self._open = True
        start = self._offset
        header = self._local_header(name, method, 0, 0, 0, zip64=True)
        self._out.write(header)
        member = _MemberWriter(method, self._level)
        member._out = self._out
        try:
            yield member
            member._finish()
        finally:
            self._open = False
        end = start + len(header) + member.compressed
        self._out.seek(start)
        self._out.write(self._local_header(name, method, member.crc, member.compressed, member.size, zip64=True))
        self._out.seek(end)
        self._offset = end
        self._record(name, method, member.crc, member.compressed, member.size, start, zip64=True)

    def _check_idle(self) -> None:
        if self._open:
            raise RuntimeError("a zip member is already being written; finish it first")

    def copy_file(self, name: str, source: IO[bytes], method: int) -> None:
        with self.open(name, method) as member:
            shutil.copyfileobj(source, member, COPY_CHUNK)

    # -- records ----------------------------------------------------------------------------------

    @staticmethod
    def _flags(name: str) -> tuple[int, bytes]:
        encoded = name.encode("utf-8")
        return (0 if name.isascii() else _UTF8_FLAG), encoded

    def _local_header(self, name: str, method: int, crc: int, compressed: int, size: int, zip64: bool) -> bytes:
        flags, encoded = self._flags(name)
        extra = b""
        if zip64:
            extra = _ZIP64_LOCAL_EXTRA.pack(0x0001, 16, size, compressed)
            compressed = size = _MAX32
        version = _VERSION_ZIP64 if zip64 else _VERSION
        fixed = _LOCAL.pack(
            0x04034B50, version, flags, method, _DOS_TIME, _DOS_DATE, crc, compressed, size, len(encoded), len(extra)
        )
        return fixed + encoded + extra

    def _record(self, name: str, method: int, crc: int, compressed: int, size: int, offset: int, zip64: bool) -> None:
        flags, encoded = self._flags(name)
        values: list[int] = []
        if size >= _MAX32 or zip64:
            values.append(size)
            size = _MAX32
        if compressed >= _MAX32 or zip64:
            values.append(compressed)
            compressed = _MAX32
        if offset >= _MAX32:
            values.append(offset)
            offset = _MAX32
        extra = struct.pack(f"<HH{len(values)}Q", 0x0001, 8 * len(values), *values) if values else b""
        version = _VERSION_ZIP64 if extra else _VERSION
        fixed = _CENTRAL.pack(
            0x02014B50,
            _MADE_BY_UNIX | version,
            version,
            flags,
            method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            compressed,
            size,
            len(encoded),
            len(extra),
            0,  # comment length
            0,  # disk number
            0,  # internal attributes
            0o644 << 16,  # external attributes: a regular file, rw-r--r--
            offset,
        )
        self._central.write(fixed + encoded + extra)
        self._entries += 1

    def close(self) -> None:
        """Append the central directory and the end records."""
        start = self._offset
        self._central.seek(0)
        shutil.copyfileobj(self._central, self._out, COPY_CHUNK)
        size = self._central.tell()
        self._central.close()
        end = start + size
        entries = self._entries
        if entries > _MAX16 or start >= _MAX32 or size >= _MAX32:
            self._out.write(_END64.pack(0x06064B50, 44, _MADE_BY_UNIX | _VERSION_ZIP64, _VERSION_ZIP64, 0, 0,
                                        entries, entries, size, start))  # fmt: skip
            self._out.write(_LOCATOR64.pack(0x07064B50, 0, end, 1))
            self._out.write(_END.pack(0x06054B50, 0, 0, _MAX16, _MAX16, _MAX32, _MAX32, 0))
        else:
            self._out.write(_END.pack(0x06054B50, 0, 0, entries, entries, size, start, 0))
        self._out.flush()
