"""Secret and public files on disk: atomic writes, owner-only permissions.

Secret files are created with ``os.open(..., 0o600)`` under a temporary name in
the same folder, written, flushed to disk and renamed into place, so a reader
sees either the old file or the whole new one, and the file is never readable
by anyone else, not even for a moment. Permissions are never widened and never
fixed up afterwards with chmod.
"""

from __future__ import annotations

import os
import stat
import secrets
from pathlib import Path

from fedalert.errors import KeyFileError

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644
DIR_MODE = 0o700


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise KeyFileError(f"cannot write {path}: folder {folder} does not exist")
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable and writable by the owner only (0600)."""
    _atomic_write(Path(path), bytes(data), SECRET_MODE)


def write_public(path: Path, data: bytes) -> None:
    """Write a non-secret file (certificate, directory) atomically with mode 0644."""
    _atomic_write(Path(path), bytes(data), PUBLIC_MODE)


def make_private_dir(path: Path) -> None:
    """Create one folder with mode 0700 (the parent must exist); refuse if it exists."""
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite key material") from None


def read_secret(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may read or write.

    Raises KeyFileError if the file is missing, is not a regular file, or its
    mode grants any permission to group or others.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist; check the path or run the key ceremony") from None
    except OSError as exc:
        raise KeyFileError(f"cannot open key file {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        perms = stat.S_IMODE(st.st_mode)
        if perms & 0o077:
            raise KeyFileError(
                f"key file {path} has mode {perms:04o}, so group or others can access it; "
                f"fix it with: chmod 600 {path} (and check nobody else copied it)"
            )
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
