"""Output folders that can never eat a user's files.

A jaxfne output folder (``jaxfne run|tune --out DIR``, ``jaxfne plot --out DIR``) is written
whole in a staging folder beside it and swapped in at the end. The rules:

- ``--out`` may not be empty, the current folder or one that contains it, the home folder,
  the file-system root, a symbolic link, or an existing file;
- an existing non-empty folder is replaced only with ``overwrite`` **and** only when jaxfne
  wrote it: it holds the marker :data:`MARKER` (or, from jaxfne before 0.3, a ``receipt.json``
  with a ``receipt_id``) and nothing that the marker does not list;
- replacement is a swap: the new folder is staged completely (marker written last), then
  exchanged with the old one in one ``renameat2(RENAME_EXCHANGE)`` where the kernel has it
  (Linux), else by two renames; the old one is removed last. A kill at any moment leaves the
  old run or the new one at ``DIR``; in the two-rename fallback a kill between the renames
  leaves both beside it, and the next run into ``DIR`` puts the complete one back;
- sibling folders left by killed runs (``.DIR.jaxfne-new-PID-*``, ``.DIR.jaxfne-old-PID-*``)
  are removed, and said so, by the next run into the same place, unless their process lives.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

from jaxfne_core.errors import OutputExistsError, UnsafeOutputError
from jaxfne_core.io import write_bytes_atomic
from jaxfne_core.version import __version__

MARKER = ".jaxfne-output.json"
_SIBLING = re.compile(r"^\.(?P<name>.+)\.jaxfne-(?P<role>new|old)-(?P<pid>\d+)-[0-9a-f]{8}$")
# what jaxfne < 0.3 wrote, for folders without a marker
_LEGACY_ENTRIES = re.compile(r"^(receipt\.json|summary\.json|signals\.npz|signals\.nwb|tune_report\.json|"
                             r"spectral\.json|conditions|[A-Za-z0-9_]+\.png)$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _say(message: str) -> None:
    print(f"jaxfne: {message}", file=sys.stderr)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_protected(resolved: Path) -> str | None:
    """Why ``resolved`` can never be an output folder, or None."""
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        return "is the file-system root"
    if resolved == cwd:
        return "is the current folder"
    if cwd.is_relative_to(resolved):
        return "contains the current folder"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):          # no HOME and no password entry: nothing to protect
        return None
    if resolved == home or home.is_relative_to(resolved):
        return "is the home folder" if resolved == home else "contains the home folder"
    return None


def read_marker(folder) -> dict | None:
    """The marker of a jaxfne output folder, or None where there is none (or it is unreadable)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != "jaxfne" or not isinstance(data.get("entries"), list):
        return None
    return data


def _foreign_entries(folder: Path) -> list[str] | None:
    """Entries of ``folder`` that jaxfne did not write, or None if it is no jaxfne folder."""
    names = sorted(p.name for p in folder.iterdir())
    marker = read_marker(folder)
    if marker is not None:
        known = {str(e) for e in marker["entries"]} | {MARKER}
        return [n for n in names if n not in known]
    try:
        receipt = json.loads((folder / "receipt.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(receipt, dict) or "receipt_id" not in receipt:
        return None
    return [n for n in names if not _LEGACY_ENTRIES.match(n)]


def check_output_folder(out, *, overwrite: bool, flag: str = "--out") -> Path:
    """Refuse an output folder that may not be written (see the module's rules); clean the
    siblings that killed runs left. Call before any work; returns ``out`` as a Path."""
    if isinstance(out, str) and out.strip() == "":
        raise UnsafeOutputError(flag, out, "is empty; allowed: a path to a new folder or to a jaxfne output folder")
    path = Path(out)
    if path.is_symlink():
        raise UnsafeOutputError(flag, out, f"is a symbolic link (to {os.readlink(path)!r}); name the real "
                                "folder instead, so that nothing is written through a link")
    resolved = path.resolve()
    reason = _is_protected(resolved)
    if reason:
        raise UnsafeOutputError(flag, out, f"{reason}; allowed: a new folder or a jaxfne output folder, "
                                "e.g. runs/NAME")
    _recover_siblings(path)
    if path.exists() and not path.is_dir():
        raise UnsafeOutputError(flag, out, "exists and is not a folder; allowed: a new folder or a jaxfne "
                                "output folder")
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        raise UnsafeOutputError(flag, out, f"cannot be created: {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UnsafeOutputError(flag, out, f"cannot be created: {str(parent)!r} is not writable")
    if path.is_dir() and any(path.iterdir()):
        foreign = _foreign_entries(path)
        if foreign is None:
            raise UnsafeOutputError(flag, out, f"exists and is not a jaxfne output folder (no {MARKER}); "
                                    "jaxfne replaces only folders it wrote: choose another folder or "
                                    "remove this one yourself")
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise UnsafeOutputError(flag, out, f"is a jaxfne output folder but also holds {shown}, which "
                                    "jaxfne did not write; move them or choose another folder")
        if not overwrite:
            raise OutputExistsError(f"{flag} {str(out)!r} exists and is not empty; pass --overwrite to replace it")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UnsafeOutputError(flag, out, "is not writable, so it cannot be replaced")
    return path


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _siblings(out: Path):
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        return []
    found = []
    for p in parent.iterdir():
        m = _SIBLING.match(p.name)
        if m and m["name"] == out.name and p.is_dir() and not p.is_symlink():
            found.append((p, m["role"], int(m["pid"])))
    return found


def _recover_siblings(out: Path) -> None:
    """Put back the complete run a kill left beside ``out`` (where ``out`` is missing) and
    remove the other leftovers of killed runs; live runs' folders are left alone."""
    stale = [(p, role) for p, role, pid in _siblings(out) if not _pid_alive(pid)]
    if not out.exists() and not out.is_symlink():
        complete = [(p, role) for p, role in stale if read_marker(p) is not None]
        # a finished new folder wins over the old one it was to replace
        complete.sort(key=lambda item: (item[1] == "new", item[0].stat().st_mtime))
        if complete:
            p, role = complete[-1]
            os.rename(p, out)
            stale.remove((p, role))
            _say(f"{out}: put back the {'new' if role == 'new' else 'previous'} output that a killed run "
                 f"left in {p.name}")
    for p, _ in stale:
        shutil.rmtree(p, ignore_errors=True)
        _say(f"{out}: removed {p.name}, left by a killed run")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if os.environ.get("JAXFNE_NO_RENAME_EXCHANGE") == "1" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):          # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot
        return False
    raise OSError(err, os.strerror(err), str(a))


def _sibling_path(out: Path, role: str) -> Path:
    return out.parent / f".{out.name}.jaxfne-{role}-{os.getpid()}-{secrets.token_hex(4)}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_marker(folder, kind: str, extra: dict | None = None) -> None:
    """Write (atomically) the marker that says jaxfne wrote ``folder`` and lists its entries."""
    folder = Path(folder)
    entries = sorted(p.name for p in folder.iterdir() if p.name != MARKER and not p.name.startswith(f"{MARKER}."))
    data = {"written_by": "jaxfne", "version": __version__, "kind": kind, "entries": entries, **(extra or {})}
    tmp = folder / f"{MARKER}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MARKER)


@contextlib.contextmanager
def staged_output_folder(out, *, overwrite: bool = False, kind: str = "run", flag: str = "--out"):
    """Yield a staging folder beside ``out``; on success mark it and swap it in (module rules);
    on any error it is removed and ``out`` is left as it was."""
    out = check_output_folder(out, overwrite=overwrite, flag=flag)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling_path(out, "new")
    staging.mkdir(mode=0o700)
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())
        write_marker(staging, kind)
        out = check_output_folder(out, overwrite=overwrite, flag=flag)   # the world may have moved
        _commit(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _commit(staging: Path, out: Path) -> None:
    if out.is_dir() and any(out.iterdir()):
        if _exchange(staging, out):                 # out: new; staging: old
            old = _sibling_path(out, "old")
            os.rename(staging, old)
        else:
            old = _sibling_path(out, "old")
            os.rename(out, old)
            os.rename(staging, out)
        shutil.rmtree(old)
    else:
        os.replace(staging, out)                    # onto nothing or an empty folder


def check_additions(folder, names=(), *, flag: str = "RUN_DIR") -> Path:
    """Refuse to add ``names`` to ``folder`` unless it is a jaxfne output folder in which each
    of them is new or was written by jaxfne."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise UnsafeOutputError(flag, folder, "is not a folder (or is a symbolic link); allowed: a jaxfne run folder")
    foreign = _foreign_entries(folder)
    if foreign is None:
        raise UnsafeOutputError(flag, folder, f"is not a jaxfne output folder (no {MARKER}); pass --out NEW_FOLDER")
    clash = sorted(set(foreign) & set(names))
    if clash:
        raise UnsafeOutputError(flag, folder, f"holds {', '.join(clash)}, which jaxfne did not write; "
                                "pass --out NEW_FOLDER")
    return folder


def add_to_output_folder(folder, files: dict, *, flag: str = "RUN_DIR") -> None:
    """Write ``files`` ({name: bytes}) into an existing jaxfne output folder, each atomically,
    replacing only entries jaxfne wrote there; the marker then lists them."""
    folder = check_additions(folder, files, flag=flag)
    for name, data in files.items():
        write_bytes_atomic(folder / name, data, overwrite=True)
    marker = read_marker(folder)
    if marker is not None:
        write_marker(folder, marker.get("kind", "run"))


def check_output_file(path, *, overwrite: bool, flag: str, signature: bytes, kind: str) -> Path:
    """Refuse a single output file that may not be written: empty, a folder, a symbolic link,
    or an existing file unless ``overwrite`` and it starts with ``signature`` (is ``kind``)."""
    if isinstance(path, str) and path.strip() == "":
        raise UnsafeOutputError(flag, path, "is empty; allowed: a file path")
    p = Path(path)
    if p.is_symlink():
        raise UnsafeOutputError(flag, path, "is a symbolic link; name the real file instead")
    if p.is_dir():
        raise UnsafeOutputError(flag, path, "is a folder; allowed: a file path")
    if p.exists():
        if not overwrite:
            raise OutputExistsError(f"{flag} {str(path)!r} exists; pass --overwrite to replace it")
        try:
            with open(p, "rb") as f:
                head = f.read(len(signature))
        except OSError as e:
            raise UnsafeOutputError(flag, path, f"cannot be read ({e.strerror}), so it cannot be replaced") from None
        if head != signature:
            raise UnsafeOutputError(flag, path, f"exists and is not {kind}; jaxfne replaces only files of that "
                                    "kind: choose another path or remove it yourself")
    parent = _nearest_existing(p.parent)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UnsafeOutputError(flag, path, f"cannot be created: {str(parent)!r} is not a writable folder")
    return p
