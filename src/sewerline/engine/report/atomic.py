"""Write a set of files into a folder so that either all of them appear or none does."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

# A function that writes one file at the path it is given.
FileWriter = Callable[[Path], object]

TEMP_PREFIX = ".sewerline-tmp-"


def write_files_atomically(out_dir: Path | str, writers: Mapping[str, FileWriter]) -> list[Path]:
    """Write each named file into `out_dir` together, and return the final paths.

    Every file is first written into a temporary folder inside `out_dir`, which keeps it
    on the same file system, and only then moved into place with os.replace. When a
    writer or a move fails, files already moved are taken back, earlier files of the same
    name are restored, the temporary folder is removed, and the error is re-raised. An
    `out_dir` created by this call is removed again if it is still empty.
    """
    out_dir = Path(out_dir)
    created_dir = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=out_dir))
    moved: list[tuple[Path, Path | None]] = []   # (final path, backup of the old file)

    try:
        for name in writers:
            writers[name](staging / name)

        for name in writers:
            final = out_dir / name
            backup = None
            if final.exists():
                backup = staging / f"previous-{name}"
                os.replace(final, backup)
            moved.append((final, backup))
            os.replace(staging / name, final)
    except BaseException:
        _roll_back(moved)
        shutil.rmtree(staging, ignore_errors=True)
        if created_dir and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise

    shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in writers]


def _roll_back(moved: list[tuple[Path, Path | None]]) -> None:
    """Take back the files moved so far and put the files they replaced back in place."""
    for final, backup in reversed(moved):
        try:
            if backup is not None:
                os.replace(backup, final)
            elif final.exists():
                final.unlink()
        except OSError:
            logger.exception("Could not restore %s while undoing a failed report write", final)
