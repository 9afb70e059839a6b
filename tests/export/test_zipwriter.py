"""The streaming zip writer: what it writes, zipfile (and unzip, when installed) read back exactly."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.export.zipwriter import DEFLATED, STORED, ZipWriter

_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"), min_size=1, max_size=20)


def _write(members: list[tuple[str, bytes, int, bool]]) -> bytes:
    out = io.BytesIO()
    writer = ZipWriter(out, level=1)
    for name, data, method, streamed in members:
        if streamed:
            with writer.open(name, method) as member:
                for start in range(0, len(data), 7):
                    member.write(data[start : start + 7])
        else:
            writer.write_bytes(name, data, method)
    writer.close()
    return out.getvalue()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(_NAMES, st.binary(max_size=300), st.sampled_from([STORED, DEFLATED]), st.booleans()),
        max_size=8,
        unique_by=lambda member: member[0],
    )
)
def test_zipfile_reads_back_every_member(members):
    data = _write(members)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert [info.filename for info in archive.infolist()] == [name for name, *_ in members]
        for (name, content, method, _), info in zip(members, archive.infolist(), strict=True):
            assert archive.read(name) == content
            assert info.compress_type == (zipfile.ZIP_DEFLATED if method == DEFLATED else zipfile.ZIP_STORED)
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr == 0o644 << 16
    assert _write(members) == data  # deterministic


def test_unicode_names_carry_the_utf8_flag():
    data = _write([("labels/caméra 1.json", b"{}", DEFLATED, False), ("plain.txt", b"x", STORED, True)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first, second = archive.infolist()
    assert first.filename == "labels/caméra 1.json" and first.flag_bits & 0x800
    assert second.filename == "plain.txt" and not second.flag_bits & 0x800


def test_more_than_65535_members_use_zip64_end_records(tmp_path: Path):
    path = tmp_path / "many.zip"
    count = 70_000
    with path.open("w+b") as out:
        writer = ZipWriter(out)
        for index in range(count):
            writer.write_bytes(f"labels/{index}.txt", str(index).encode(), DEFLATED if index % 2 else STORED)
        writer.close()
    raw = path.read_bytes()
    assert raw.count(b"PK\x06\x06") == 1 and raw.count(b"PK\x06\x07") == 1  # Zip64 end record and locator
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == count and names[-1] == f"labels/{count - 1}.txt"
        assert archive.read("labels/69999.txt") == b"69999"
        assert archive.read("labels/12345.txt") == b"12345"
    if shutil.which("unzip"):
        result = subprocess.run(["unzip", "-tqq", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("unzip") is None, reason="unzip is not installed")
def test_unzip_accepts_streamed_and_whole_members(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(
        _write(
            [
                ("data.json", b'{"a": 1}\n' * 1000, DEFLATED, True),
                ("images/a.png", bytes(range(256)) * 10, STORED, True),
                ("README.kili.txt", b"Exported Labels from KILI\n", DEFLATED, False),
                ("labels/empty.txt", b"", STORED, False),
            ]
        )
    )
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_one_member_at_a_time():
    writer = ZipWriter(io.BytesIO())
    with writer.open("a.txt", DEFLATED):
        with pytest.raises(RuntimeError, match="a zip member is already being written"):
            writer.write_bytes("b.txt", b"", STORED)
        with pytest.raises(RuntimeError, match="a zip member is already being written"), writer.open("c.txt", STORED):
            pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000), st.integers(0, 2**32 - 1))
def test_crc32_combine_is_the_crc_of_the_concatenation(first, second, seed):
    import zlib

    from labelport.export.zipwriter import crc32_combine

    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)
    # and with a running CRC that did not start at zero
    assert crc32_combine(zlib.crc32(first, seed), zlib.crc32(second), len(second)) == zlib.crc32(
        second, zlib.crc32(first, seed)
    )


def _with_parts(pieces: list[tuple[bytes, bool]], name: str) -> bytes:
    """A member made of written bytes and :class:`DeflatedPart` s (``True``: the piece goes through a part)."""
    from labelport.export.zipwriter import DeflatedPart

    out = io.BytesIO()
    writer = ZipWriter(out, level=1)
    parts = []
    for data, as_part in pieces:
        if as_part:
            part = DeflatedPart(1)
            for start in range(0, len(data), 5):
                part.write(data[start : start + 5])
            parts.append(part)
    with writer.open(name, STORED if name.endswith(".png") else DEFLATED) as member:
        queue = iter(parts)
        for data, as_part in pieces:
            if as_part:
                member.write_part(next(queue))
            else:
                member.write(data)
    for part in parts:
        part.close()
    writer.close()
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.binary(max_size=2000) | st.just(b"ab" * 40_000), st.booleans()), max_size=6),
    st.sampled_from(["labels.json", "image.png"]),
)
def test_members_with_parts_compressed_ahead_read_back_exactly(pieces, name):
    """zipfile checks the CRC of what it reads, and inflates the joined deflate blocks."""
    archive = zipfile.ZipFile(io.BytesIO(_with_parts(pieces, name)))
    assert archive.testzip() is None
    assert archive.read(name) == b"".join(data for data, _ in pieces)


def test_unzip_accepts_members_with_parts(tmp_path: Path):
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed")
    pieces = [(b'{"images":', False), (b"[1,2,3]" * 5000, True), (b',"annotations":', False), (b"x" * 70_000, True)]
    (tmp_path / "a.zip").write_bytes(_with_parts(pieces, "labels.json"))
    subprocess.run(["unzip", "-q", "-t", str(tmp_path / "a.zip")], check=True)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=5000), st.sampled_from([1, 6]))
def test_a_member_deflated_beforehand_is_written_as_write_bytes_writes_it(data, level):
    """Writers compress members in ``convert`` (perhaps in a worker process): the archive is the same."""
    from labelport.export.zipwriter import deflate

    direct, ahead = io.BytesIO(), io.BytesIO()
    one, other = ZipWriter(direct, level=level), ZipWriter(ahead, level=level)
    one.write_bytes("labels/a.txt", data, DEFLATED)
    other.write_deflated("labels/a.txt", deflate(data, level))
    one.close()
    other.close()
    assert ahead.getvalue() == direct.getvalue()
    assert zipfile.ZipFile(ahead).read("labels/a.txt") == data


def test_the_archive_writes_compressed_members_as_their_names_ask(tmp_path: Path):
    """Empty members and media names are stored, as ``write_bytes`` stores them."""
    from labelport.export.archive import atomic_archive, compressed

    with atomic_archive(tmp_path / "a.zip") as archive:
        archive.write_member("labels/a.txt", compressed(b"0 0.5 0.5 0.1 0.1\n"))
        archive.write_member("labels/empty.txt", compressed(b""))
        archive.write_member("images/x.jpg", compressed(b"\xff\xd8 not really a jpeg"))
    with atomic_archive(tmp_path / "b.zip") as archive:
        archive.write_bytes("labels/a.txt", b"0 0.5 0.5 0.1 0.1\n")
        archive.write_bytes("labels/empty.txt", b"")
        archive.write_bytes("images/x.jpg", b"\xff\xd8 not really a jpeg")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    methods = {info.filename: info.compress_type for info in zipfile.ZipFile(tmp_path / "a.zip").infolist()}
    assert methods == {"labels/a.txt": zipfile.ZIP_DEFLATED, "labels/empty.txt": 0, "images/x.jpg": 0}
