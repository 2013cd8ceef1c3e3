"""The SQLite store touches only regular files it created or already owns as a store.

Each case once chmodded or reused a file it should not have: a symlink's target, a device,
another user's file, or ``-wal``/``-shm`` files another user planted in a shared folder.
Devices and "system files" here are ones the test creates itself (``mknod`` of the null
device's numbers, a copy of a passwd-like file): never the machine's own.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib import TokenStoreError, open_store
from gong_authlib.stores import SQLiteTokenStore
from tests.test_contract_tokens import make_token
from tests.unprivileged import as_nobody, give_to_nobody, nobody


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder outside pytest's tmp_path (closed to nobody under root), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gong-authlib-files-"))
    os.chmod(folder, 0o755)  # noqa: S103 - nobody must reach into it
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    folder.rmdir()


def _passwd_like(folder: Path) -> Path:
    target = folder / "passwd"
    target.write_text("root:x:0:0:root:/root:/bin/bash\n")
    os.chmod(target, 0o644)
    return target


def test_a_symlink_is_refused_and_its_target_untouched(shared: Path) -> None:
    target = _passwd_like(shared)
    link = shared / "tokens.db"
    link.symlink_to(target)
    with pytest.raises(TokenStoreError, match="is a symbolic link"):
        SQLiteTokenStore(link)
    assert _mode(target) == 0o644
    assert target.read_text().startswith("root:x:0:0")
    assert sorted(p.name for p in shared.iterdir()) == ["passwd", "tokens.db"]


def test_a_symlink_to_a_store_is_refused_too(shared: Path) -> None:
    SQLiteTokenStore(shared / "real.db").close()
    (shared / "tokens.db").symlink_to(shared / "real.db")
    with pytest.raises(TokenStoreError, match="is a symbolic link"):
        open_store(f"sqlite:///{shared / 'tokens.db'}")


def test_a_device_is_refused_and_left_alone(shared: Path) -> None:
    device = shared / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot create a device node here")
    os.chmod(device, 0o666)  # noqa: S103 - the case under test
    with pytest.raises(TokenStoreError, match="not a regular file"):
        SQLiteTokenStore(device)
    assert _mode(device) == 0o666
    assert sorted(p.name for p in shared.iterdir()) == ["null"], "no -journal beside it"


def test_dev_null_as_nobody_is_refused_before_any_change() -> None:
    before = os.stat("/dev/null")

    def work() -> str:
        try:
            SQLiteTokenStore("/dev/null")
        except TokenStoreError as exc:
            return str(exc)
        return "opened"

    assert "not a regular file" in as_nobody(work)
    after = os.stat("/dev/null")
    assert (after.st_mode, after.st_uid) == (before.st_mode, before.st_uid)
    assert not Path("/dev/null-journal").exists()


def test_a_fifo_is_refused_without_hanging(shared: Path) -> None:
    fifo = shared / "tokens.db"
    os.mkfifo(fifo, 0o644)
    with pytest.raises(TokenStoreError, match="not a regular file"):
        SQLiteTokenStore(fifo)
    assert _mode(fifo) == 0o644


def test_a_file_that_is_not_a_store_keeps_its_mode(shared: Path) -> None:
    target = _passwd_like(shared)
    with pytest.raises(TokenStoreError, match="not a gong-authlib SQLite store"):
        SQLiteTokenStore(target)
    assert _mode(target) == 0o644


def test_another_users_file_is_refused(shared: Path) -> None:
    path = shared / "tokens.db"
    SQLiteTokenStore(path).close()
    for name in ("tokens.db", "tokens.db-wal", "tokens.db-shm"):
        if (shared / name).exists():
            give_to_nobody(shared / name)
    os.chmod(path, 0o644)
    with pytest.raises(TokenStoreError, match="owned by another user"):
        SQLiteTokenStore(path)
    assert _mode(path) == 0o644


def test_a_world_writable_folder_without_sticky_bit_is_refused(shared: Path) -> None:
    folder = shared / "open"
    folder.mkdir()
    os.chmod(folder, 0o777)  # noqa: S103 - the case under test
    with pytest.raises(TokenStoreError, match="writable by every user"):
        SQLiteTokenStore(folder / "tokens.db")
    assert list(folder.iterdir()) == []


def test_a_sticky_shared_folder_is_fine(shared: Path) -> None:
    folder = shared / "tmp"
    folder.mkdir()
    os.chmod(folder, 0o1777)  # noqa: S103 - the case under test
    with SQLiteTokenStore(folder / "tokens.db") as store:
        store.put("acme", make_token())
    assert _mode(folder / "tokens.db") == 0o600


def test_a_folder_owned_by_another_user_is_refused(shared: Path) -> None:
    folder = shared / "theirs"
    folder.mkdir(mode=0o755)
    give_to_nobody(folder)
    with pytest.raises(TokenStoreError, match="owned by another user"):
        SQLiteTokenStore(folder / "tokens.db")
    assert list(folder.iterdir()) == []


def test_a_created_folder_is_private(shared: Path) -> None:
    user = nobody()
    home = give_to_nobody(shared)

    def work() -> tuple[int, int, int]:
        with SQLiteTokenStore(home / "new" / "tokens.db") as store:
            store.put("acme", make_token())
        return (
            _mode(home / "new"),
            _mode(home / "new" / "tokens.db"),
            os.stat(home / "new" / "tokens.db").st_uid,
        )

    assert as_nobody(work) == (0o700, 0o600, user.pw_uid)


@pytest.mark.parametrize("side", ["-wal", "-shm"])
def test_side_files_planted_by_another_user_are_refused(shared: Path, side: str) -> None:
    folder = shared / "tmp"
    folder.mkdir()
    os.chmod(folder, 0o1777)  # noqa: S103 - the case under test
    path = folder / "tokens.db"

    def plant() -> None:
        fd = os.open(f"{path}{side}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.fchmod(fd, 0o666)
        os.close(fd)

    as_nobody(plant)
    with pytest.raises(TokenStoreError, match=rf"tokens\.db{side} .*owned by another user"):
        SQLiteTokenStore(path)
    assert not path.exists() or path.stat().st_size == 0, "no token reached the planted files"


def test_a_side_file_readable_by_others_is_refused(shared: Path) -> None:
    path = shared / "tokens.db"
    SQLiteTokenStore(path).close()
    wal = Path(f"{path}-wal")
    wal.touch()
    os.chmod(wal, 0o644)
    with pytest.raises(TokenStoreError, match=r"tokens\.db-wal .*mode 0644"):
        SQLiteTokenStore(path)


def test_a_symlinked_side_file_is_refused(shared: Path) -> None:
    path = shared / "tokens.db"
    SQLiteTokenStore(path).close()
    target = _passwd_like(shared)
    Path(f"{path}-shm").symlink_to(target)
    with pytest.raises(TokenStoreError, match=r"tokens\.db-shm is a symbolic link"):
        SQLiteTokenStore(path)
    assert _mode(target) == 0o644


def test_nobody_cannot_be_made_to_chmod_roots_file(shared: Path) -> None:
    target = _passwd_like(shared)
    home = give_to_nobody(shared)

    def work() -> str:
        (home / "tokens.db").symlink_to(target)
        try:
            SQLiteTokenStore(home / "tokens.db")
        except TokenStoreError as exc:
            return str(exc)
        return "opened"

    assert "symbolic link" in as_nobody(work)
    assert _mode(target) == 0o644


def test_a_hard_link_to_another_file_is_refused_and_left_alone(shared: Path) -> None:
    # O_NOFOLLOW does not see a hard link: as root, a second name for an empty root file
    # elsewhere passed every check, was chmodded 0600 and became an SQLite database.
    elsewhere = shared / "etc"
    elsewhere.mkdir()
    target = elsewhere / "empty.conf"
    target.write_text("")
    os.chmod(target, 0o644)
    store = shared / "store"
    store.mkdir(mode=0o700)
    os.link(target, store / "tokens.db")
    with pytest.raises(TokenStoreError, match="2 hard links"):
        SQLiteTokenStore(store / "tokens.db")
    assert _mode(target) == 0o644
    assert target.read_bytes() == b""
    assert sorted(p.name for p in store.iterdir()) == ["tokens.db"]


def test_a_hard_linked_side_file_is_refused(shared: Path) -> None:
    folder = shared / "store"
    folder.mkdir(mode=0o700)
    with SQLiteTokenStore(folder / "tokens.db") as store:
        store.put("acme", make_token())
    key = shared / "id_key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    os.chmod(key, 0o600)
    os.link(key, folder / "tokens.db-wal")
    with pytest.raises(TokenStoreError, match=r"tokens\.db-wal has 2 hard links"):
        SQLiteTokenStore(folder / "tokens.db")
    assert key.read_text() == "-----BEGIN PRIVATE KEY-----\n"


def test_a_folder_writable_by_a_shared_group_is_refused(shared: Path) -> None:
    # Owned by root but writable by a group (staff, say): any member could swap the store
    # between the checks and SQLite's own open.
    folder = shared / "group"
    folder.mkdir()
    os.chown(folder, 0, nobody().pw_gid)
    os.chmod(folder, 0o775)  # noqa: S103 - the case under test
    with pytest.raises(TokenStoreError, match="writable by its group"):
        SQLiteTokenStore(folder / "tokens.db")
    assert list(folder.iterdir()) == []


def test_a_folder_behind_another_users_symlink_is_refused(shared: Path) -> None:
    # The symlink's owner can point it elsewhere between the checks and SQLite's open.
    real = shared / "real"
    real.mkdir(mode=0o700)
    link = shared / "link"
    link.symlink_to(real)
    user = nobody()
    os.lchown(link, user.pw_uid, user.pw_gid)
    with pytest.raises(TokenStoreError, match="symbolic link owned by another user"):
        SQLiteTokenStore(link / "tokens.db")
    assert list(real.iterdir()) == []
    own = shared / "own-link"
    own.symlink_to(real)
    with SQLiteTokenStore(own / "tokens.db") as store:  # our own link is fine
        store.put("acme", make_token())


def test_a_folder_writable_by_this_users_private_group_is_fine(shared: Path) -> None:
    # umask 002 with user-private groups (Debian, Red Hat) makes folders group-writable by a
    # group holding this user alone: no one else can write there.
    import grp
    import pwd

    me = pwd.getpwuid(os.geteuid())
    try:
        group = grp.getgrnam(me.pw_name)
    except KeyError:
        pytest.skip(f"no group named {me.pw_name}")
    if set(group.gr_mem) - {me.pw_name}:
        pytest.skip(f"group {me.pw_name} has other members")
    folder = shared / "private-group"
    folder.mkdir()
    os.chown(folder, me.pw_uid, group.gr_gid)
    os.chmod(folder, 0o775)  # noqa: S103 - the case under test
    with SQLiteTokenStore(folder / "tokens.db") as store:
        store.put("acme", make_token())
    assert _mode(folder / "tokens.db") == 0o600
