"""--overwrite never deletes what jaxfne did not write; replacement is a swap that a kill at any
moment leaves as the old output or the new one; leftovers of killed runs are cleaned up."""
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from jaxfne_workflows import output_folder as of
from jaxfne_core.cli import main
from jaxfne_core.errors import JaxfneError, OutputExistsError, UnsafeOutputError

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = str(ROOT / "examples" / "minimal_column.jcfg.json")
RUN = ["--duration-ms", "5", "--no-figures"]


def snapshot(folder: Path) -> dict:
    """Every path below ``folder`` (links not followed) with its bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(folder))] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
    return out


@pytest.fixture
def user_tree(tmp_path, monkeypatch):
    """A working folder holding a user's files, as the current folder."""
    work = tmp_path / "work"
    (work / "thesis" / "data").mkdir(parents=True)
    (work / "thesis" / "thesis.tex").write_text("\\chapter{irreplaceable}")
    (work / "thesis" / "data" / "recording.bin").write_bytes(b"\x00\x01" * 100)
    (work / "notes.txt").write_text("keep me")
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("target", [".", "", "./", "..", "thesis/..", "thesis", "notes.txt", "link",
                                    "thesis/data/.."])
def test_overwrite_refuses_what_jaxfne_did_not_write(user_tree, target, capsys):
    (user_tree / "link").symlink_to("thesis")
    if target in ("..", "thesis/.."):
        os.chdir(user_tree / "thesis")     # '..' is then the work folder, which holds the cwd
        target = ".." if target == ".." else "../thesis/.."
    before = snapshot(user_tree)
    assert main(["run", MINIMAL, "--out", target, "--overwrite", *RUN]) == 1
    assert snapshot(user_tree) == before
    assert "--out" in capsys.readouterr().err


def test_overwrite_refuses_home_and_an_ancestor_of_it(tmp_path, monkeypatch):
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    (home / ".bashrc").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    for target in (str(home), str(home.parent)):
        with pytest.raises(UnsafeOutputError, match="home folder"):
            of.check_output_folder(target, overwrite=True)
    assert (home / ".bashrc").read_text() == "x"


def test_symlink_to_a_jaxfne_folder_is_refused_and_the_folder_kept(tmp_path):
    real = tmp_path / "real"
    assert main(["run", MINIMAL, "--out", str(real), *RUN]) == 0
    (tmp_path / "alias").symlink_to(real)
    before = snapshot(real)
    assert main(["run", MINIMAL, "--out", str(tmp_path / "alias"), "--overwrite", *RUN]) == 1
    assert snapshot(real) == before and (tmp_path / "alias").is_symlink()


def test_a_run_folder_with_a_users_file_in_it_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", MINIMAL, "--out", str(out), *RUN]) == 0
    (out / "analysis.ipynb").write_text("{}")
    assert main(["run", MINIMAL, "--out", str(out), "--overwrite", *RUN]) == 1
    assert "analysis.ipynb" in capsys.readouterr().err and (out / "analysis.ipynb").exists()


def test_replacing_a_run_folder_swaps_it_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "run"
    assert main(["run", MINIMAL, "--out", str(out), "--seed", "1", *RUN]) == 0
    first = json.loads((out / "receipt.json").read_text())["receipt_id"]
    assert main(["run", MINIMAL, "--out", str(out), "--seed", "2", *RUN]) == 1        # no --overwrite
    assert main(["run", MINIMAL, "--out", str(out), "--seed", "2", "--overwrite", *RUN]) == 0
    second = json.loads((out / "receipt.json").read_text())["receipt_id"]
    assert first != second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    marker = of.read_marker(out)
    assert marker["kind"] == "run" and marker["entries"] == ["network.npz", "receipt.json", "signals.npz", "summary.json"]


def test_folder_from_before_the_marker_is_recognised_by_its_receipt(tmp_path):
    legacy = tmp_path / "old_run"
    legacy.mkdir()
    (legacy / "receipt.json").write_text(json.dumps({"receipt_id": "abc"}))
    (legacy / "signals.npz").write_bytes(b"PK")
    (legacy / "raster.png").write_bytes(b"\x89PNG")
    assert of.check_output_folder(legacy, overwrite=True) == legacy
    (legacy / "receipt.json").write_text("{}")                     # not a receipt
    with pytest.raises(UnsafeOutputError, match="not a jaxfne output folder"):
        of.check_output_folder(legacy, overwrite=True)


def test_empty_existing_folder_is_used_without_overwrite(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", MINIMAL, "--out", str(out), *RUN]) == 0
    assert (out / "receipt.json").is_file()


def test_an_existing_file_path_or_a_file_as_parent_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    for target in (tmp_path / "f", tmp_path / "f" / "run"):
        with pytest.raises(UnsafeOutputError):
            of.check_output_folder(target, overwrite=True)
    assert (tmp_path / "f").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_refused_before_any_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(UnsafeOutputError, match="not writable"):
            of.check_output_folder(ro / "run", overwrite=False)
    finally:
        ro.chmod(0o755)


def test_error_on_the_way_leaves_the_old_output(tmp_path):
    out = tmp_path / "out"
    with of.staged_output_folder(out) as s:
        (s / "id.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with of.staged_output_folder(out, overwrite=True) as s:
            (s / "id.txt").write_text("new")
            raise RuntimeError("boom")
    assert (out / "id.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_plot_and_export_refuse_user_files(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", MINIMAL, "--out", str(run), *RUN]) == 0
    user = tmp_path / "figs"
    user.mkdir()
    (user / "raster.png").write_bytes(b"my own figure")
    assert main(["plot", str(run), "--out", str(user), "--overwrite"]) == 1
    assert (user / "raster.png").read_bytes() == b"my own figure"
    (tmp_path / "paper.docx").write_bytes(b"PK\x03\x04 a document")
    assert main(["export", str(run), "--nwb", str(tmp_path / "paper.docx"), "--overwrite"]) == 1
    assert (tmp_path / "paper.docx").read_bytes() == b"PK\x03\x04 a document"
    assert main(["export", str(run), "--nwb", str(tmp_path), "--overwrite"]) == 1      # a folder
    assert main(["export", str(run), "--nwb", ""]) == 1
    err = capsys.readouterr().err
    assert "--nwb" in err and "not an NWB (HDF5) file" in err


def test_plot_into_the_run_folder_keeps_it_replaceable(tmp_path):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    assert main(["run", MINIMAL, "--out", str(run), "--duration-ms", "20", "--no-figures"]) == 0
    assert main(["plot", str(run)]) == 0
    assert "raster.png" in of.read_marker(run)["entries"]
    assert main(["run", MINIMAL, "--out", str(run), *RUN, "--overwrite"]) == 0
    assert not (run / "raster.png").exists()


def test_plot_and_export_refuse_a_damaged_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", MINIMAL, "--out", str(run), *RUN]) == 0
    good = (run / "signals.npz").read_bytes()
    (run / "signals.npz").write_bytes(good[: len(good) // 2])        # truncated
    assert main(["plot", str(run), "--out", str(tmp_path / "p")]) == 1
    (run / "signals.npz").write_bytes(b"")
    assert main(["export", str(run), "--nwb", str(tmp_path / "x.nwb")]) == 1
    (run / "signals.npz").write_bytes(good)
    (run / "receipt.json").write_text('{"receipt_id": "ab')           # truncated
    assert main(["export", str(run), "--nwb", str(tmp_path / "x.nwb")]) == 1
    err = capsys.readouterr().err
    assert "signals.npz" in err and "receipt.json" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists() and not (tmp_path / "x.nwb").exists()


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_killed_runs_are_removed_live_ones_kept(tmp_path, capsys):
    out = tmp_path / "run"
    with of.staged_output_folder(out) as s:
        (s / "id.txt").write_text("old")
    dead = _dead_pid()
    stale = [tmp_path / f".run.jaxfne-new-{dead}-0123abcd", tmp_path / f".run.jaxfne-old-{dead}-89abcdef"]
    for p in stale:
        p.mkdir()
        (p / "half").write_text("x")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".run.jaxfne-new-{sleeper.pid}-00000000"
        live.mkdir()
        other = tmp_path / f".another.jaxfne-new-{dead}-00000000"       # another output's: not ours
        other.mkdir()
        with of.staged_output_folder(out, overwrite=True) as s:
            (s / "id.txt").write_text("new")
        assert not any(p.exists() for p in stale) and live.exists() and other.exists()
        assert "left by a killed run" in capsys.readouterr().err
    finally:
        sleeper.kill()
        sleeper.wait()


def test_missing_output_is_put_back_from_what_a_kill_left(tmp_path):
    dead = _dead_pid()
    out = tmp_path / "run"
    old = tmp_path / f".run.jaxfne-old-{dead}-0000000a"
    new = tmp_path / f".run.jaxfne-new-{dead}-0000000b"
    for p, text in ((old, "old"), (new, "new")):
        p.mkdir()
        (p / "id.txt").write_text(text)
        of.write_marker(p, "run")
    of.check_output_folder(out, overwrite=True)
    assert (out / "id.txt").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    # an unfinished new folder (no marker) never wins over the complete old one
    out2 = tmp_path / "run2"
    old2 = tmp_path / f".run2.jaxfne-old-{dead}-0000000c"
    new2 = tmp_path / f".run2.jaxfne-new-{dead}-0000000d"
    old2.mkdir(), new2.mkdir()
    (old2 / "id.txt").write_text("old")
    of.write_marker(old2, "run")
    (new2 / "id.txt").write_text("half")
    with pytest.raises(OutputExistsError):            # put back, and then it is not empty
        of.check_output_folder(out2, overwrite=False)
    assert (out2 / "id.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run2"]


# A child writes an old output, then a new one, and SIGKILLs itself at the K-th file-system
# step of the commit (os.rename, os.replace, shutil.rmtree, the marker write, the exchange).
_KILL_CHILD = textwrap.dedent("""
    import os, shutil, signal, sys
    from pathlib import Path
    from jaxfne_workflows import output_folder as of
    out, k = Path(sys.argv[1]), int(sys.argv[2])
    if not out.exists():
        with of.staged_output_folder(out) as s:
            (s / "id.txt").write_text("old")
    calls = [0]
    def killing(fn):
        def wrapped(*a, **kw):
            calls[0] += 1
            if calls[0] == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*a, **kw)
        return wrapped
    os.rename, os.replace = killing(os.rename), killing(os.replace)
    shutil.rmtree, of._exchange = killing(shutil.rmtree), killing(of._exchange)
    of.write_marker = killing(of.write_marker)
    with of.staged_output_folder(out, overwrite=True) as s:
        (s / "id.txt").write_text("new")
        (s / "big").write_bytes(os.urandom(1 << 20))
    print("finished", calls[0])
""")


@pytest.mark.parametrize("exchange", ["1", "0"])
def test_sigkill_at_every_commit_step_leaves_old_or_new(tmp_path, exchange):
    env = {**os.environ, "JAXFNE_NO_RENAME_EXCHANGE": "0" if exchange == "1" else "1"}
    seen = set()
    for k in range(1, 9):
        work = tmp_path / f"k{k}"
        work.mkdir()
        out = work / "out"
        subprocess.run([sys.executable, "-c", _KILL_CHILD, str(out), "999"], env=env, check=True,
                       capture_output=True)                                   # old, then a clean new
        (out / "id.txt").write_text("old")
        r = subprocess.run([sys.executable, "-c", _KILL_CHILD, str(out), str(k)], env=env, capture_output=True,
                           text=True)
        if r.returncode == 0:                  # fewer steps than k: the commit finished
            assert (out / "id.txt").read_text() == "new"
            break
        assert r.returncode == -signal.SIGKILL
        of.check_output_folder(out, overwrite=True)        # the next run's first step
        state = (out / "id.txt").read_text()
        assert state in ("old", "new"), (k, state)
        assert sorted(p.name for p in work.iterdir()) == ["out"], k          # nothing left beside it
        seen.add(state)
    else:
        pytest.fail("the commit took more than 8 steps")
    assert seen == {"old", "new"}


def test_sigkill_of_jaxfne_run_at_random_moments(tmp_path):
    """A real ``jaxfne run --overwrite`` killed at spread moments: the folder holds the old run
    or the new one (by receipt id), never neither; the next run leaves nothing beside it."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "jaxfne_core", "run", MINIMAL, "--out", str(out), "--duration-ms", "200",
           "--no-figures", "--overwrite"]
    t0 = time.perf_counter()
    subprocess.run(cmd + ["--seed", "1"], check=True, capture_output=True)
    full = time.perf_counter() - t0
    old_id = json.loads((out / "receipt.json").read_text())["receipt_id"]
    subprocess.run(cmd[:6] + [str(tmp_path / "ref")] + cmd[7:] + ["--seed", "2"], check=True, capture_output=True)
    new_id = json.loads((tmp_path / "ref" / "receipt.json").read_text())["receipt_id"]
    shutil.rmtree(tmp_path / "ref")
    assert new_id != old_id
    ids = set()
    for fraction in (0.3, 0.6, 0.8, 0.9, 0.95, 1.0):
        p = subprocess.Popen(cmd + ["--seed", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p.wait(timeout=fraction * full)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
        assert out.is_dir()                          # never neither (the exchange is atomic)
        rid = json.loads((out / "receipt.json").read_text())["receipt_id"]
        assert rid in (old_id, new_id)
        assert all((out / e).is_file() for e in of.read_marker(out)["entries"])    # whole, not half
        ids.add("old" if rid == old_id else "new")
        if rid != old_id:                            # reset to the old run for the next moment
            subprocess.run(cmd + ["--seed", "1"], check=True, capture_output=True)
    subprocess.run(cmd + ["--seed", "1"], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert "old" in ids


def test_refusals_are_jaxfne_errors():
    assert issubclass(UnsafeOutputError, JaxfneError) and issubclass(OutputExistsError, JaxfneError)


def test_a_file_that_appears_while_it_is_written_is_not_replaced(tmp_path, monkeypatch):
    """The existence check and the publish are not one step apart: a file another process
    creates after the check but before the publish is kept, and no temporary is left."""
    from jaxfne_core import io as jio
    target = tmp_path / "receipt.json"
    real_fdopen = os.fdopen

    def racing_fdopen(fd, *args, **kwargs):          # the other process writes while we do
        target.write_text("theirs")
        return real_fdopen(fd, *args, **kwargs)
    monkeypatch.setattr(jio.os, "fdopen", racing_fdopen)
    with pytest.raises(OutputExistsError, match="receipt.json exists"):
        jio.write_json_atomic(target, {"ours": 1})
    assert target.read_text() == "theirs" and sorted(p.name for p in tmp_path.iterdir()) == ["receipt.json"]
    monkeypatch.setattr(jio.os, "fdopen", real_fdopen)
    jio.write_json_atomic(target, {"ours": 1}, overwrite=True)
    assert json.loads(target.read_text()) == {"ours": 1}
    jio.write_json_atomic(tmp_path / "new.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "receipt.json"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux shows the umask in /proc")
def test_atomic_files_get_the_umask_without_the_umask_being_changed(tmp_path, monkeypatch):
    """The published file has mode 0o666 & ~umask, and the umask is read, never set (setting it
    to 0 and back would briefly make other threads' new files world-writable)."""
    from jaxfne_core import io as jio
    mask = os.umask(0o027)
    try:
        def refuse(_):
            raise AssertionError("os.umask was called")
        monkeypatch.setattr(jio.os, "umask", refuse)
        path = jio.write_json_atomic(tmp_path / "r.json", {"a": 1})
        assert (path.stat().st_mode & 0o777) == 0o640
    finally:
        monkeypatch.undo()
        os.umask(mask)
