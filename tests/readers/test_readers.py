"""The bounded readers: non-regular files refused before opening, limits checked before loading,
peak memory of package attacks measured in a child process."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from generator.readers import (
    MAX_JSON_DEPTH, InputError, PackageLimits, json_depth, parse_json, read_bytes, read_json, read_package,
)

ROOT = Path(__file__).resolve().parents[2]
#: Peak resident memory allowed for a process reading any hostile package (Python + our imports
#: use ~25 MB, measured 36 MB under every attack; the limits keep anything the archive holds to one 64 KiB chunk at a time).
PEAK_MB = 64
GIB = 2**30


def peak_mb() -> int:
    """This process's peak resident memory in MB. VmHWM, not getrusage's ru_maxrss: Linux carries the
    forked parent's resident size (a pytest process) into the child's ru_maxrss across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


# -- files ------------------------------------------------------------------------------------------

def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(InputError) as err:
        read_bytes(fifo, 100)
    assert err.value.kind == "not-regular" and "FIFO" in err.value.message
    with pytest.raises(InputError) as err:
        list(read_package(fifo))
    assert err.value.kind == "not-regular"
    assert time.perf_counter() - started < 1


def test_symlink_to_device_and_directory_are_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    for path, what in ((link, "character device"), (tmp_path, "directory")):
        with pytest.raises(InputError) as err:
            read_bytes(path, 100)
        assert err.value.kind == "not-regular" and what in err.value.message


def test_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": 1}')
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    assert read_json(tmp_path / "b.json") == {"a": 1}


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(2 * GIB)  # sparse: costs no disk
    with pytest.raises(InputError) as err:
        read_bytes(big, 1024)
    assert err.value.kind == "too-large"


# -- JSON -------------------------------------------------------------------------------------------

def test_depth_limit_is_enforced_while_parsing() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth(parse_json(ok), stop_at=10) == 11
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(InputError) as err:
            parse_json("[" * depth + "]" * depth)
        assert err.value.kind == "too-deep"


@pytest.mark.parametrize("text, fragment", [
    ('{"a": "\\ud800"}', "surrogate"),
    ('{"a": NaN}', "line 1"),
    ('{"a": Infinity}', "line 1"),
    ('{"a": 1e999}', "infinity"),
    ('{"a": }', "line 1, column 7"),
])
def test_invalid_json_is_reported_with_its_place(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_json(text, "x.json")
    assert err.value.kind == "invalid-json" and fragment in err.value.message


def test_invalid_utf8_and_byte_order_mark() -> None:
    with pytest.raises(InputError) as err:
        parse_json(b'{"a":\n "\xff"}')
    assert err.value.kind == "not-utf8" and err.value.line == 2
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_json_depth_is_iterative() -> None:
    value: object = 1
    for _ in range(50_000):
        value = [value]
    assert json_depth(value, stop_at=10**6) == 50_000
    assert json_depth(value, stop_at=10) == 11


# -- packages ---------------------------------------------------------------------------------------

def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def _file(name: str, data: bytes = b"{}", **kw: object) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in kw.items():
        setattr(info, key, value)
    return info, (data if info.isfile() else None)


def _header(name: str, flag: bytes, size: int) -> bytes:
    """A raw ustar header announcing `size` bytes (built by hand: tarfile would refuse)."""
    info = tarfile.TarInfo(name)
    info.type = flag
    info.size = size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _gzip_stream(prefix: bytes, zeros: int) -> bytes:
    """gzip of prefix + `zeros` zero bytes, as concatenated gzip members (a valid gzip file) so a
    1 GiB bomb is built in milliseconds from one compressed MiB."""
    chunk = gzip.compress(bytes(2**20), mtime=0)
    return gzip.compress(prefix, mtime=0) + chunk * (zeros // 2**20)


def test_package_members_long_names_and_plain_tar(tmp_path: Path) -> None:
    long = "package/" + "x" * 150 + ".json"
    data = _tar([_file("package/package.json", b'{"name": "a.b", "version": "1.0.0"}'), _file(long),
                 _file("package/dir", type=tarfile.DIRTYPE), _file("package/l.json", type=tarfile.SYMTYPE, linkname="/x")])
    for name, blob in (("p.tgz", gzip.compress(data)), ("p.tar", data)):
        (tmp_path / name).write_bytes(blob)
        members = list(read_package(tmp_path / name))
        assert [(m.name, m.kind) for m in members] == [
            ("package/package.json", "file"), (long, "file"), ("package/dir", "directory"), ("package/l.json", "symlink")]
        assert members[1].data == b"{}"
    gnu = _tar([_file(long, b"[]")], fmt=tarfile.GNU_FORMAT)
    (tmp_path / "g.tgz").write_bytes(gzip.compress(gnu))
    assert [(m.name, m.data) for m in read_package(tmp_path / "g.tgz")] == [(long, b"[]")]


def test_package_limits(tmp_path: Path) -> None:
    limits = PackageLimits(member_bytes=10, members=3)
    (tmp_path / "a.tgz").write_bytes(gzip.compress(_tar([_file("package/a.json", b"x" * 11), _file("package/b.json")])))
    first, second = read_package(tmp_path / "a.tgz", limits=limits)
    assert first.problem_kind == "package-limit" and first.data is None and second.data == b"{}"
    (tmp_path / "n.tgz").write_bytes(gzip.compress(_tar([_file(f"package/{i}.json") for i in range(4)])))
    with pytest.raises(InputError, match="more than 3 members"):
        list(read_package(tmp_path / "n.tgz", limits=limits))
    (tmp_path / "t.tgz").write_bytes(gzip.compress(_tar([_file("package/a.json")]))[:-30])
    with pytest.raises(InputError) as err:
        list(read_package(tmp_path / "t.tgz"))
    assert err.value.kind == "package-invalid"
    (tmp_path / "junk.tgz").write_bytes(gzip.compress(b"hello" * 200))
    with pytest.raises(InputError) as err:
        list(read_package(tmp_path / "junk.tgz"))
    assert err.value.kind == "package-invalid"


ATTACKS = {
    # a PAX extended header announcing 1 GiB (tarfile would read it whole before any check)
    "pax-header-1gib": lambda: _gzip_stream(_header("././@PaxHeader", tarfile.XHDTYPE, GIB), GIB),
    # a GNU long-name record announcing 1 GiB
    "gnu-longname-1gib": lambda: _gzip_stream(_header("././@LongLink", tarfile.GNUTYPE_LONGNAME, GIB), GIB),
    # one member of 1 GiB of zeros: 1 MiB compressed
    "gzip-bomb-1gib": lambda: _gzip_stream(_header("package/bomb.json", tarfile.REGTYPE, GIB), GIB),
    # many small members unpacking past the total limit (each under the member limit)
    "many-members": lambda: b"".join(_gzip_stream(_header(f"package/{i}.bin", tarfile.REGTYPE, 2**20), 2**20)
                                     for i in range(300)),
}

_CHILD = """
import sys, time
from tests.readers.test_readers import peak_mb
from generator.validate import load_artifacts as validate_load
from generator.apply import load_artifacts as apply_load
from generator.diagnostics import GeneratorError
started = time.perf_counter()
_, diags = validate_load(sys.argv[1])
codes = sorted({d.code for d in diags})
try:
    apply_load(sys.argv[1])
    apply = "loaded"
except GeneratorError as exc:
    apply = exc.diagnostics[0].code
print(codes, apply, peak_mb(), round(time.perf_counter() - started, 2))
"""


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_package_attack_is_refused_with_bounded_memory(tmp_path: Path, attack: str) -> None:
    path = tmp_path / f"{attack}.tgz"
    path.write_bytes(ATTACKS[attack]())
    assert path.stat().st_size < 2 * 2**20
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    codes, apply_code, peak, seconds = done.stdout.rsplit(" ", 3)
    assert "input.package-limit" in codes and apply_code == "APPLY002", done.stdout
    assert int(peak) < PEAK_MB, f"{attack}: peak {peak} MB"
    assert float(seconds) < 20


def test_cli_refuses_fifo_package_and_device_patient(tmp_path: Path) -> None:
    fifo = tmp_path / "x.tgz"
    os.mkfifo(fifo)
    cpg = [str(Path(sys.executable).parent / "cpg")]
    done = subprocess.run([*cpg, "validate", "--no-cql", str(fifo)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "input.not-regular" in done.stdout, done.stdout + done.stderr
    built = ROOT / "output" / "vertebral-compression-fracture"
    done = subprocess.run([*cpg, "apply", str(built), "--patient", "/dev/zero", "--date", "2026-01-01"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "APPLY020" in done.stderr and "character device" in done.stderr, done.stderr
    assert "internal error" not in done.stderr


def test_apply_reports_a_package_without_manifest(tmp_path: Path) -> None:
    from generator.apply import ApplyError, load_artifacts

    resource = {"resourceType": "Basic", "id": "x"}
    (tmp_path / "p.tgz").write_bytes(gzip.compress(_tar([_file("package/Basic-x.json", json.dumps(resource).encode())])))
    with pytest.raises(ApplyError) as err:
        load_artifacts(tmp_path / "p.tgz")
    assert err.value.diagnostics[0].code == "APPLY050"
    (tmp_path / "q.tgz").write_bytes(gzip.compress(_tar([_file("package/package.json", b"{oops")])))
    with pytest.raises(ApplyError) as err:
        load_artifacts(tmp_path / "q.tgz")
    assert err.value.diagnostics[0].code == "APPLY050" and "invalid package.json" in err.value.diagnostics[0].message


@pytest.mark.parametrize("text, code", [
    ("[" * 5000 + "]" * 5000, "APPLY021"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", '
     '"id": "p", "name": [{"text": "\\udc00"}]}}]}', "APPLY021"),
    ('{"resourceType": "Bundle", "total": NaN}', "APPLY021"),
])
def test_hostile_patient_bundles_are_apply_errors(tmp_path: Path, text: str, code: str) -> None:
    from generator.apply import ApplyError, read_patient_bundle

    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ApplyError) as err:
        read_patient_bundle(path)
    assert err.value.diagnostics[0].code == code and str(path) in err.value.diagnostics[0].message
