"""One-line errors: multi-line messages from libpq and servers read as sentences."""

from __future__ import annotations

import socket
import threading

import pytest

from pgmodelnames import errors


def test_lines_become_sentences_not_run_together():
    assert errors.one_line("Connection refused\n\tIs the server running on that host?") == \
        "Connection refused. Is the server running on that host?"
    assert errors.one_line("server closed the connection unexpectedly\n\tThis probably means the server "
                           "terminated abnormally\n\tbefore or while processing the request.") == \
        ("server closed the connection unexpectedly. This probably means the server terminated abnormally "
         "before or while processing the request.")
    assert errors.one_line("already a sentence.\nNext one") == "already a sentence. Next one"
    assert errors.one_line("  spaced   out \n\n") == "spaced out"


def test_a_server_that_hangs_up_is_one_readable_line(minimal_db):
    """A real socket that accepts and closes at once: libpq's three-line message, as two sentences."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def hang_up():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        result = minimal_db.cli("doctor", url=f"postgresql://postgres@127.0.0.1:{port}/x")
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert result.code == errors.CANNOT_CONNECT
    assert result.err.count("\n") == 1
    assert "unexpectedly. This probably means" in result.err


@pytest.mark.unit
@pytest.mark.parametrize("wait", ["0", "-1", "1e7", "nan", "inf"])
def test_lock_wait_out_of_range_is_a_usage_error(wait, capsys):
    from pgmodelnames.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["upgrade", "--lock-wait", wait, "--database-url", "postgresql://u@127.0.0.1:1/x"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lock-wait" in err
