"""Atomic, strict output: JSON without NaN, ``.npz`` arrays; overwrite refused unless asked."""
from __future__ import annotations

import contextlib
import io as _io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import OutputExistsError


def _atomic_write_bytes(path, data: bytes, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        _publish(tmp, path, overwrite)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _publish(tmp: str, path: Path, overwrite: bool) -> None:
    """Move the finished ``tmp`` to ``path`` in one step. Without ``overwrite`` a hard link
    publishes it, which fails if ``path`` appeared since it was checked (another process), so
    a file is never replaced unasked; where links are unsupported, a checked rename."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it") from None
    except OSError:                       # no hard links here (some network or FUSE filesystems)
        if path.exists():
            raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (/proc/self/status):
    setting it to 0 and back, the fallback, leaves a window in which another thread's new
    files would be created world-writable."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json_text(data) -> str:
    """Strict JSON (``allow_nan=False``): a NaN anywhere is an error, never a silent token."""
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def write_json_atomic(path, data, *, overwrite=False) -> Path:
    return _atomic_write_bytes(path, to_json_text(data).encode("utf-8"), overwrite)


def write_text_atomic(path, text: str, *, overwrite=False) -> Path:
    return _atomic_write_bytes(path, text.encode("utf-8"), overwrite)


def write_npz_atomic(path, arrays: dict, *, overwrite=False) -> Path:
    buf = _io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return _atomic_write_bytes(path, buf.getvalue(), overwrite)


def write_bytes_atomic(path, data: bytes, *, overwrite=False) -> Path:
    return _atomic_write_bytes(path, data, overwrite)


@contextlib.contextmanager
def atomic_path(path, *, overwrite=False):
    """Yield a temporary path beside ``path`` for a library that writes the file itself (HDF5,
    NWB); on success it replaces ``path`` in one rename, on any error it is removed."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        _publish(tmp, path, overwrite)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
