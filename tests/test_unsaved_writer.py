"""The last attempts for an unsaved pair (issue 26): at interpreter exit and on SIGTERM, in a
real interpreter, with whatever SIGTERM handler the app had still called after ours.

The holder here writes only from the main thread (where atexit and signal handlers run), so
the background thread's attempts fail and only the last attempt can succeed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from tests.helpers import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import logging, os, signal, sys, threading, time
    from gong_authlib.tokens.unsaved import WRITER, install_exit_hooks

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")

    class Holder:
        customer = "acme"
        def retry_unsaved(self):
            return threading.current_thread() is threading.main_thread()

    if sys.argv[1] == "sigterm":
        signal.signal(signal.SIGTERM, lambda *_: print("the app's own handler ran", flush=True))
    install_exit_hooks()
    WRITER.add(Holder())
    time.sleep(0.3)  # the background writer tries, and fails, meanwhile
    assert WRITER.pending(), "written too early"
    if sys.argv[1] == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        print("still running after SIGTERM", flush=True)
    """
)


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )


def test_an_unsaved_pair_gets_a_last_attempt_at_exit() -> None:
    done = _run("exit")
    assert done.returncode == 0, done.stderr
    assert "customer acme: unsaved pair written at interpreter exit" in done.stdout


def test_sigterm_makes_a_last_attempt_and_chains_the_apps_handler() -> None:
    done = _run("sigterm")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines.index("customer acme: unsaved pair written at SIGTERM") < lines.index(
        "the app's own handler ran"
    )
    assert "still running after SIGTERM" in lines  # the app's handler decided, not ours


def test_sigterm_still_ends_an_app_that_had_no_handler() -> None:
    script = SCRIPT.replace(
        'if sys.argv[1] == "sigterm":\n    signal.signal', "if False:\n    signal.signal"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "sigterm"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGTERM
    assert "customer acme: unsaved pair written at SIGTERM" in done.stdout
    assert "still running after SIGTERM" not in done.stdout


def test_a_sigterm_landing_while_the_writer_holds_its_guard_does_not_hang() -> None:
    """A signal handler runs in the main thread between two bytecodes, so SIGTERM can land
    while that thread is inside ``WRITER.add`` or ``WRITER.pending`` holding the writer's
    guard: the handler's own ``pending()`` must not wait for it forever (a plain Lock would:
    the process would then ignore SIGTERM and lose its unsaved pairs to the SIGKILL that
    follows)."""
    import threading

    from gong_authlib.tokens.unsaved import WRITER, _on_sigterm

    chained: list[int] = []
    handler = _on_sigterm(lambda signum, frame: chained.append(signum))

    def interrupted_inside_the_guard() -> None:
        with WRITER._guard:
            handler(signal.SIGTERM, None)

    worker = threading.Thread(target=interrupted_inside_the_guard, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the SIGTERM handler hung on the writer's own guard"
    assert chained == [signal.SIGTERM]
