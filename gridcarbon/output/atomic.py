"""Atomic, locked output folders.

A run writes into a hidden temporary sibling of its final folder and swaps it into place
only when everything is written; on any failure the temporary folder is removed and the
previous result stays untouched. A lock file beside the folder stops two runs writing
the same result at once (a stale lock, whose process is gone, is taken over).
"""
from __future__ import annotations

import errno
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from gridcarbon.core.errors import OutputError


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def locked(final: Path):
    """Hold ``.<name>.lock`` beside ``final`` for the duration; raise OutputError if taken."""
    lock = final.parent / f".{final.name}.lock"
    mine = final.parent / f".{final.name}.lock-{os.getpid()}"
    try:
        mine.write_text(str(os.getpid()))  # the lock appears with its owner already written
        for _ in range(2):
            try:
                os.link(mine, lock)  # atomic: fails if another run holds the lock
                break
            except FileExistsError:
                try:
                    owner = int(lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    owner = 0
                if owner and _pid_alive(owner):
                    raise OutputError(f"{final} is being written by another run (pid {owner})") from None
                lock.unlink(missing_ok=True)  # stale: its process is gone
        else:  # pragma: no cover - lost a race for a stale lock twice
            raise OutputError(f"cannot lock {final}: another run keeps taking it")
    except OSError as err:
        raise _os_error(err, final) from err
    finally:
        mine.unlink(missing_ok=True)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def check_unlocked(final: Path) -> None:
    """Fail early (before any computation) when a live run holds ``final``'s lock."""
    lock = Path(final).parent / f".{Path(final).name}.lock"
    try:
        owner = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return
    if owner and _pid_alive(owner):
        raise OutputError(f"{final} is being written by another run (pid {owner})")


@contextmanager
def atomic_dir(final: Path):
    """Yield a fresh temporary folder; on success it replaces ``final`` in one rename."""
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _os_error(err, final.parent) from err
    with locked(final):
        _clear_dead_writers(final)
        tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir()
            yield tmp
            old = final.parent / f".{final.name}.old-{os.getpid()}"
            kept = final.exists()
            if kept:
                os.replace(final, old)
            try:
                os.replace(tmp, final)
            except OSError:
                if kept:  # put the previous result back before reporting
                    os.replace(old, final)
                raise
            shutil.rmtree(old, ignore_errors=True)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _os_error(err, final) from err
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _clear_dead_writers(final: Path) -> None:
    """Undo what a writer killed midway (SIGKILL, power loss) left beside ``final``.

    Runs under the lock, so no live writer owns these: a dead writer's ``.tmp-<pid>``
    folder is removed; its ``.old-<pid>`` folder is the previous result, put back if the
    writer died between its two renames (``final`` missing), else removed.
    """
    for kind in ("old", "tmp"):
        for path in sorted(final.parent.glob(f".{final.name}.{kind}-*")):
            pid = path.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not final.exists():
                try:
                    os.replace(path, final)
                except OSError as err:
                    raise _os_error(err, final) from err
            else:
                shutil.rmtree(path, ignore_errors=True)


def _os_error(err: OSError, where: Path) -> OutputError:
    reason = {errno.ENOSPC: "no space left on the device", errno.EACCES: "permission denied",
              errno.EROFS: "read-only file system", errno.EDQUOT: "disk quota exceeded"}.get(
        err.errno, err.strerror or str(err))
    return OutputError(f"cannot write {where}: {reason}")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a hidden sibling and one rename: readers see the
    old file or the new one, never a part. Returns ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _os_error(err, path) from err
    return path
