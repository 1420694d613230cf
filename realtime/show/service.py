"""Running for weeks: the log, systemd's watchdog, and the config file watcher.

- `open_log`: log lines to stderr and, with a file, to a rotating log
  (logging.handlers.RotatingFileHandler: LOG_BYTES a file, LOG_BACKUPS kept).
- `Watchdog`: sdnotify's READY=1 after the first frame is presented and
  WATCHDOG=1 at most every half WatchdogSec, sent only from the render loop
  right after a frame was presented: a hung GL driver stops the pings and
  systemd (Restart=always) restarts the show. Without NOTIFY_SOCKET it is off.
- `ConfigWatcher`: watchfiles watches the config's folder (editors replace
  files by renaming) in a daemon thread; each change is parsed in full there,
  and the result (a config, or the one-line error) waits for the render thread.

python-osc, watchfiles and sdnotify are the `[show]` extra, imported here only
when used, so the core runs without them.
"""

from __future__ import annotations

import hashlib
import logging
import logging.handlers
import math
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from realtime.errors import InputError

LOGGER = "rackfocus.show"
LOG_BYTES = 5 * 1024 * 1024  # a log file rotates at this size
LOG_BACKUPS = 5  # rotated files kept (show.log.1 .. show.log.5)
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
WATCHDOG_DEFAULT_S = 1.0  # ping interval when systemd does not say (WATCHDOG_USEC unset)
WATCH_DEBOUNCE_MS = 200  # a burst of file events within this is one change
WATCH_STEP_MS = 50  # watchfiles' polling step (and how soon it sees a stop request)
STOP_WAIT_S = 2.0  # how long closing waits for the watcher thread

T = TypeVar("T")


def open_log(path: Path | None) -> logging.Logger:
    """The show's logger: stderr, plus a rotating file if `path` is given."""
    logger = logging.getLogger(LOGGER)
    close_log(logger)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("rackfocus show: %(message)s"))
    logger.addHandler(stderr)
    if path is not None:
        try:
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        except OSError as e:
            close_log(logger)
            raise InputError(f"--log {path}: cannot write: {e.strerror or e}") from e
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    return logger


def close_log(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


class Watchdog:
    """systemd notification from the render loop: READY once, then WATCHDOG pings."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.notifier: Any = None
        self.ready = False
        self.last_ping = -math.inf
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.interval_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        if not os.environ.get("NOTIFY_SOCKET"):
            return
        try:
            import sdnotify
        except ImportError:
            log("NOTIFY_SOCKET is set but sdnotify is missing: pip install 'rackfocus[show]'")
            return
        self.notifier = sdnotify.SystemdNotifier()
        if self.notifier.socket is not None:  # a full notification queue must never block
            self.notifier.socket.setblocking(False)  # the render loop (a lost ping is harmless)

    def presented(self, now: float) -> None:
        """A frame was just presented (wall clock `now`)."""
        if self.notifier is None:
            return
        if not self.ready:
            self.notifier.notify("READY=1")
            self.ready = True
        interval = self.interval_s if self.interval_s is not None else WATCHDOG_DEFAULT_S
        if now - self.last_ping >= interval:
            self.notifier.notify("WATCHDOG=1")
            self.last_ping = now

    def status(self, text: str) -> None:
        """A line `systemctl status` shows."""
        if self.notifier is not None:
            self.notifier.notify(f"STATUS={text}")

    def stopping(self) -> None:
        if self.notifier is not None:
            self.notifier.notify("STOPPING=1")


class ConfigWatcher(Generic[T]):
    """Watches a config file; each change is parsed in a thread, the last result kept.

    `take()` returns (parsed, None) or (None, one-line error) once per change, or None.
    """

    def __init__(self, path: Path, parse: Callable[[Path], T]) -> None:
        self.path = path.resolve()
        self.parse = parse
        self.lock = threading.Lock()
        self.result: tuple[T | None, str | None] | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.digest = self._digest()  # what the running config was parsed from

    def _digest(self) -> bytes | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def start(self) -> bool:
        """Start watching; False when watchfiles is not installed."""
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            return False
        self.thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)
        self.thread.start()
        return True

    def _is_config(self, _change: Any, path: str) -> bool:
        return Path(path) == self.path

    def _run(self) -> None:
        import watchfiles

        for _changes in watchfiles.watch(
            self.path.parent,
            watch_filter=self._is_config,
            debounce=WATCH_DEBOUNCE_MS,
            step=WATCH_STEP_MS,
            stop_event=self.stop,
            recursive=False,
            raise_interrupt=False,
        ):
            digest = self._digest()
            if digest is None or digest == self.digest:
                continue  # deleted (wait for it to come back), or touched but unchanged
            self.digest = digest
            try:
                result: tuple[T | None, str | None] = (self.parse(self.path), None)
            except InputError as e:
                result = (None, str(e))
            except Exception as e:  # a bug must not kill the watcher: report it as a line
                result = (None, f"{self.path}: {type(e).__name__}: {e}")
            with self.lock:
                self.result = result

    def take(self) -> tuple[T | None, str | None] | None:
        with self.lock:
            result, self.result = self.result, None
        return result

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(STOP_WAIT_S)


__all__ = ["ConfigWatcher", "Watchdog", "close_log", "open_log"]
