"""Which files the SQLite store may open, create or chmod: only its own.

A store path is user input (a config file, ``--store``), and the store often runs as root or
on a shared machine. So, before SQLite sees a path and before any ``chmod``:

* the folder is created 0700 when missing; an existing folder must belong to this user (or
  root), and a folder other users may write to (every user, or a group other than this
  user's private one) must carry the sticky bit, otherwise another user could swap the store
  or its side files, even between the checks here and SQLite's own open; a folder reached
  through a symbolic link needs that link to be this user's (or root's), since its owner can
  re-point it at any moment;
* the store file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and judged on its ``fstat``: a
  symbolic link, a device, a FIFO, another user's file, a file with other hard links (another
  name for a file elsewhere: ``O_NOFOLLOW`` does not see those) or a non-empty file that is
  not SQLite is refused, and the mode is tightened through the descriptor (``fchmod``),
  never the path;
* the ``-wal``, ``-shm`` and ``-journal`` files SQLite reuses must be this user's regular
  files with no access for anyone else (tightening one another user already holds open
  would not take its descriptor back, so they are refused instead). They are checked again
  once SQLite has opened the store, which closes the gap between the check and the open.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger

log = get_logger("stores")

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _refuse(path: Path | str, why: str) -> TokenStoreError:
    return TokenStoreError(f"refusing to use {path} as a token store: {why}")


def _owned_by_me(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid()


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _private_group(gid: int) -> bool:
    """A user-private group (the Debian and Red Hat convention): this user's name, no others."""
    try:
        import grp
        import pwd

        group, me = grp.getgrgid(gid), pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return False
    return group.gr_name == me and set(group.gr_mem) <= {me}


def prepare_folder(folder: Path) -> None:
    """Create the store's folder 0700, or check that an existing one cannot be tampered with."""
    if not os.path.lexists(folder):
        folder.mkdir(mode=0o700, parents=True)
    link = os.lstat(folder)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (os.geteuid(), 0):
        raise _refuse(
            folder,
            f"its folder is a symbolic link owned by another user (uid {link.st_uid}), who "
            "could point it elsewhere",
        )
    info = folder.stat()  # a symlink of our own to a folder: judge the folder it leads to
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    if info.st_uid not in (os.geteuid(), 0):
        raise _refuse(
            folder, f"its folder is owned by another user (uid {info.st_uid}), who could swap it"
        )
    if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        raise _refuse(
            folder,
            "its folder is writable by every user and has no sticky bit, so anyone could "
            "replace the store; use a private folder (mode 0700)",
        )
    if (
        info.st_mode & stat.S_IWGRP
        and not info.st_mode & stat.S_ISVTX
        and not _private_group(info.st_gid)
    ):
        raise _refuse(
            folder,
            f"its folder is writable by its group (gid {info.st_gid}) and has no sticky bit, "
            "so any member could replace the store; use a private folder (mode 0700)",
        )


def check_side_files(path: Path) -> None:
    """Refuse ``-wal``/``-shm``/``-journal`` files that are not this user's private files."""
    for suffix in SIDE_SUFFIXES:
        side = Path(f"{path}{suffix}")
        try:
            info = os.lstat(side)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, f"{side} is {_kind(info.st_mode)}")
        if not _owned_by_me(info):
            raise _refuse(
                path, f"{side} is owned by another user (uid {info.st_uid}); remove it if unused"
            )
        if info.st_nlink != 1:
            raise _refuse(path, f"{side} has {info.st_nlink} hard links; remove it if unused")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise _refuse(
                path,
                f"{side} has mode {mode:04o}; others may already hold it open: remove it "
                "once no process uses the store",
            )


def prepare_store_file(path: Path) -> tuple[int, int]:
    """Create or check the store file; return its (device, inode) for later comparison."""
    prepare_folder(path.parent)
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    created = False
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        created = True
    except FileExistsError:
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse(path, "it is a symbolic link") from None
            if exc.errno == errno.ENXIO:  # a FIFO with no reader, or a socket
                raise _refuse(path, f"{_kind(os.lstat(path).st_mode)}") from None
            raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, f"it is {_kind(info.st_mode)}, not a regular file")
        if not _owned_by_me(info):
            raise _refuse(path, f"it is owned by another user (uid {info.st_uid})")
        if info.st_nlink != 1:
            raise _refuse(
                path, f"it has {info.st_nlink} hard links: it may be another file's second name"
            )
        if not created and info.st_size > 0 and os.pread(fd, 16, 0) != _SQLITE_MAGIC:
            raise _refuse(path, "the file is not a gong-authlib SQLite store")
        check_side_files(path)
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            log.warning("tightening %s from %o to 0600: it holds credentials", path, mode)
            os.fchmod(fd, 0o600)
        return info.st_dev, info.st_ino
    finally:
        os.close(fd)


def check_opened(path: Path, identity: tuple[int, int]) -> None:
    """After SQLite opened the store: the same file, and side files still our own."""
    info = os.lstat(path)
    if (info.st_dev, info.st_ino) != identity:
        raise _refuse(path, "the file was replaced while it was being opened")
    check_side_files(path)
