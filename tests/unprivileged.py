"""Run a piece of a test as the unprivileged ``nobody`` user, so file permissions are real.

The suite runs as root (here and in CI), where every permission check passes. ``runuser -u
nobody`` cannot start this interpreter when it lives under ``/root`` (pyenv), so the child is
forked and drops to nobody with ``setgid``/``setuid`` before running the work: the kernel then
applies the same checks it would to a process started by ``runuser``.
"""

from __future__ import annotations

import os
import pickle
import pwd
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def nobody() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to the nobody user")
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no nobody user on this machine")


def give_to_nobody(path: Path) -> Path:
    user = nobody()
    os.chown(path, user.pw_uid, user.pw_gid)
    return path


def as_nobody(work: Callable[[], T]) -> T:
    """Run ``work()`` in a forked child as nobody; return its result or re-raise its error."""
    user = nobody()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        code = 0
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            outcome: tuple[str, object] = ("ok", work())
        except BaseException as exc:
            outcome = ("error", exc)
        try:
            payload = pickle.dumps(outcome)
        except Exception as exc:
            payload = pickle.dumps(("error", RuntimeError(f"unpicklable outcome: {exc!r}")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(payload)  # noqa: S301 - our own child wrote it
    if kind == "error":
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[no-any-return]
