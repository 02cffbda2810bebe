"""Bounded readers: every file, JSON document and package (.tgz) a command reads comes through here.

Why one module: a reader that trusts its input is a denial of service (a FIFO that never ends,
`/dev/zero`, a JSON file nested 100,000 deep, a 1 MB gzip that unpacks to gigabytes, a tar
header that claims a 1 GB PAX record). Every limit below is checked *before* the data it
guards is loaded:

- files: only regular files are read (FIFOs, devices, sockets, directories and symlinks to
  them are refused from `stat`, before `open`); the size is checked from `stat` and the read
  stops at the limit whatever `stat` said;
- JSON: parsed by orjson, whose parser stops at `MAX_JSON_DEPTH` nested arrays/objects while
  parsing; lone surrogates, NaN/Infinity and invalid UTF-8 are reported, never accepted;
- packages: read as a stream by our own tar header parser (Python's `tarfile` loads a PAX or
  GNU long-name record whole before any check could run): header record, member, total
  unpacked size and member count are checked from each 512-byte header before the data it
  announces is read; gzip is decompressed in bounded chunks.

Failures are `InputError`s with a short stable `kind` the callers map to their own codes.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

__all__ = [
    "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "MAX_RESOURCE_DEPTH", "PackageLimits", "PackageMember", "InputError",
    "MAX_TEXT_BYTES", "check_regular_file", "read_bytes", "read_text", "parse_json", "read_json", "json_depth", "read_package", "unsafe_member",
]

MAX_JSON_BYTES = 50 * 2**20
#: CQL files and source documents.
MAX_TEXT_BYTES = 10 * 2**20
#: orjson's parser refuses deeper documents while parsing (a fixed limit of the library).
MAX_JSON_DEPTH = 1024
#: Nesting (arrays and objects) a FHIR resource may have; the validator, the planner and the
#: engine walk resources recursively, so deeper ones are refused with a located error.
MAX_RESOURCE_DEPTH = 128


class InputError(Exception):
    """An unusable input: `kind` is one of not-regular, missing, unreadable, too-large, not-utf8,
    invalid-json, too-deep, package-invalid, package-limit. `line` is 0 when unknown."""

    def __init__(self, kind: str, where: str | Path, message: str, *, line: int = 0) -> None:
        super().__init__(f"{where}: {message}")
        self.kind = kind
        self.where = str(where)
        self.message = message
        self.line = line


# -- files ------------------------------------------------------------------------------------------

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def check_regular_file(path: str | Path) -> os.stat_result:
    """`stat` of `path` (symlinks followed) when it is a regular file, else `InputError` (nothing opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError("missing", path, "no such file") from exc
    except OSError as exc:
        raise InputError("unreadable", path, str(exc.strerror or exc)) from exc
    what = _not_regular(st.st_mode)
    if what is not None:
        raise InputError("not-regular", path, f"this path is {what}; only regular files are read")
    return st


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes."""
    st = check_regular_file(path)
    if st.st_size > limit:
        raise InputError("too-large", path, f"the file is {st.st_size:,} bytes, over the {_mb(limit)} limit")
    try:
        # O_NONBLOCK: a FIFO swapped in after the stat must not block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError("unreadable", path, str(exc.strerror or exc)) from exc
    with os.fdopen(fd, "rb") as handle:
        if _not_regular(os.fstat(fd).st_mode) is not None:
            raise InputError("not-regular", path, "the file changed into a non-regular file while being opened; only regular files are read")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError("unreadable", path, str(exc.strerror or exc)) from exc
    if len(data) > limit:
        raise InputError("too-large", path, f"the file grew past the {_mb(limit)} limit while being read")
    return data


def read_text(path: str | Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A bounded regular file decoded as UTF-8 (CQL sources, source documents)."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not-utf8", path, f"not UTF-8 text (byte {exc.start}, line {line})", line=line) from None


def _mb(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KiB"


# -- JSON -------------------------------------------------------------------------------------------

def parse_json(data: bytes | str, shown: str = "<input>") -> Any:
    """Strict JSON (RFC 8259 as FHIR uses it): depth ≤ MAX_JSON_DEPTH checked while parsing, UTF-8
    only (a leading byte-order mark is allowed), no lone surrogates, no NaN/Infinity."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError("not-utf8", shown, f"not UTF-8 text (byte {exc.start}, line {line})", line=line) from None
    data = data.removeprefix("\ufeff")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = str(exc.msg)
        if "depth limit" in msg or "recursion" in msg.lower():
            raise InputError("too-deep", shown, f"JSON nested deeper than {MAX_JSON_DEPTH} levels "
                             f"(line {exc.lineno}, column {exc.colno})", line=exc.lineno) from None
        if "not valid UTF-8" in msg or "surrogate" in msg:
            kind = "not-utf8" if "not valid UTF-8" in msg and "surrogate" not in msg else "invalid-json"
            raise InputError(kind, shown, f"{msg} (line {exc.lineno}, column {exc.colno})", line=exc.lineno) from None
        raise InputError("invalid-json", shown, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {msg}",
                         line=exc.lineno) from None


def read_json(path: str | Path, limit: int = MAX_JSON_BYTES) -> Any:
    """A bounded regular file parsed as strict JSON."""
    return parse_json(read_bytes(path, limit), str(path))


def json_depth(value: Any, stop_at: int = MAX_RESOURCE_DEPTH) -> int:
    """Nesting depth of arrays/objects (a scalar is 0), counted without recursion; stops counting
    once `stop_at` is exceeded (returns stop_at + 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_at:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest


# -- packages ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageLimits:
    """Limits for one package; each is checked from a tar header before the bytes it announces are read."""

    file_bytes: int = 200 * 2**20  #: the .tgz file itself
    unpacked_bytes: int = 200 * 2**20  #: everything decompressed (headers included)
    member_bytes: int = 20 * 2**20  #: one member's data
    members: int = 10_000  #: member count
    header_bytes: int = 64 * 1024  #: one PAX extended header or GNU long-name record


@dataclass(frozen=True)
class PackageMember:
    """One archive entry. `data` is set for regular files `wanted` accepted and within the member
    limit; `problem` (with `kind` package-unsafe or package-limit) says why an entry was not read."""

    name: str
    kind: str  # file, directory, symlink, hardlink, device, fifo, other
    size: int
    data: bytes | None = None
    problem: str | None = None
    problem_kind: str | None = None


_TYPES = {b"0": "file", b"\0": "file", b"7": "file", b"5": "directory", b"2": "symlink", b"1": "hardlink",
          b"3": "device", b"4": "device", b"6": "fifo"}
_BLOCK = 512
_CHUNK = 64 * 1024


class _Stream:
    """Decompressed bytes of the package, counted against the unpacked limit as they are read."""

    def __init__(self, raw: BinaryIO, limits: PackageLimits, shown: str) -> None:
        head = raw.read(2)
        raw.seek(0)
        self._inner: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if head == b"\x1f\x8b" else raw  # type: ignore[assignment]
        self.limits, self.shown, self.total = limits, shown, 0

    def read(self, n: int) -> bytes:
        if self.total + n > self.limits.unpacked_bytes:
            raise InputError("package-limit", self.shown, f"the package unpacks to more than {_mb(self.limits.unpacked_bytes)}; "
                             "stopped reading")
        try:
            data = self._inner.read(n)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError("package-invalid", self.shown, f"not a readable .tgz package: {exc}") from None
        self.total += len(data)
        return data

    def exactly(self, n: int, what: str) -> bytes:
        parts, left = [], n
        while left > 0:
            data = self.read(min(left, _CHUNK))
            if not data:
                raise InputError("package-invalid", self.shown, f"the archive ends inside {what}")
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    def skip(self, n: int, what: str) -> None:
        left = n
        while left > 0:
            data = self.read(min(left, _CHUNK))
            if not data:
                raise InputError("package-invalid", self.shown, f"the archive ends inside {what}")
            left -= len(data)


def _padded(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


def _number(field: bytes, shown: str) -> int:
    """A tar numeric field: octal text, or GNU base-256 (high bit set)."""
    if field and field[0] & 0x80:
        if field[0] & 0x40:
            raise InputError("package-invalid", shown, "negative number in a tar header")
        value = field[0] & 0x3F
        for byte in field[1:]:
            value = (value << 8) | byte
        return value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise InputError("package-invalid", shown, f"invalid number {text[:20]!r} in a tar header") from None


def _checksum_ok(block: bytes, shown: str) -> bool:
    stored = _number(block[148:156], shown)
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 8 * 32 + sum(b - 256 if b > 127 else b for b in block[156:])
    return stored in (unsigned, signed)


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _pax_records(data: bytes, shown: str) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos:pos + 1] not in (b"\0", b""):
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise InputError("package-invalid", shown, "malformed PAX header record") from None
        if space < 0 or length <= 0 or pos + length > len(data):
            raise InputError("package-invalid", shown, "malformed PAX header record")
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        pos += length
    return records


def read_package(path: str | Path, wanted: Callable[[str], bool] = lambda name: True,
                 limits: PackageLimits = PackageLimits()) -> Iterator[PackageMember]:
    """Stream the members of a .tgz (or plain .tar) package; data only for regular files `wanted`
    selects. Raises `InputError` (package-invalid, package-limit, not-regular, ...) when the
    archive as a whole cannot be read within the limits."""
    shown = str(path)
    st = check_regular_file(path)
    if st.st_size > limits.file_bytes:
        raise InputError("package-limit", shown, f"the package file is {st.st_size:,} bytes, over the {_mb(limits.file_bytes)} limit")
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed in finally; a regular file (checked above)
    except OSError as exc:
        raise InputError("unreadable", shown, str(exc.strerror or exc)) from exc
    try:
        yield from _members(_Stream(raw, limits, shown), limits, shown, wanted)
    finally:
        raw.close()


def _members(stream: _Stream, limits: PackageLimits, shown: str,
             wanted: Callable[[str], bool]) -> Iterator[PackageMember]:
    count = 0
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        block = stream.read(_BLOCK)
        if not block or block == bytes(_BLOCK):
            if count == 0 and not block:
                raise InputError("package-invalid", shown, "the package is empty (no tar members)")
            return
        if len(block) < _BLOCK or not _checksum_ok(block, shown):
            raise InputError("package-invalid", shown, f"not a readable .tgz package (bad tar header after "
                             f"{count} member(s))")
        size = _number(block[124:136], shown)
        flag = block[156:157]
        if flag in (b"x", b"g", b"L", b"K"):
            what = "PAX extended header" if flag in (b"x", b"g") else "GNU long-name record"
            if size > limits.header_bytes:
                raise InputError("package-limit", shown, f"a {what} of {size:,} bytes exceeds the "
                                 f"{_mb(limits.header_bytes)} limit; stopped before reading it")
            data = stream.exactly(_padded(size), what)[:size]
            if flag == b"x":
                pax = _pax_records(data, shown)
            elif flag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "replace")
            continue
        count += 1
        if count > limits.members:
            raise InputError("package-limit", shown, f"the package has more than {limits.members:,} members; stopped reading")
        name = _text(block[0:100])
        if block[257:262] == b"ustar" and block[345:346] != b"\0":
            name = _text(block[345:500]) + "/" + name
        name = pax.get("path", long_name or name)
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise InputError("package-invalid", shown, f"PAX size of {name!r} is not a number") from None
        pax, long_name = {}, None
        kind = _TYPES.get(flag, "other")
        if kind == "directory":
            name = name.rstrip("/")
        data_size = size if kind in ("file", "other") else 0
        member = PackageMember(name, kind, size)
        if kind == "file" and size > limits.member_bytes:
            yield PackageMember(name, kind, size, problem=f"member is {size:,} bytes, over the "
                                f"{_mb(limits.member_bytes)} limit", problem_kind="package-limit")
            stream.skip(_padded(data_size), name)
        elif kind == "file" and wanted(name):
            data = stream.exactly(_padded(data_size), name)[:size]
            yield PackageMember(name, kind, size, data=data)
        else:
            stream.skip(_padded(data_size), name)
            yield member


def unsafe_member(member: PackageMember) -> str | None:
    """Why a member must not be used even in memory (it could not be extracted safely), or None."""
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "path traversal ('..')"
    if member.kind in ("symlink", "hardlink"):
        return "link entries are not allowed"
    if member.kind in ("device", "fifo"):
        return "device or fifo entry"
    return None
