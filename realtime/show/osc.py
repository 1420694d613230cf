"""OSC remote control: a UDP server thread that checks every message and queues the good ones.

One value per address, so TouchDesigner, QLab and Max drive the show without
scripting (ADDRESSES is the table the README shows). The server thread only
parses, checks types and ranges, and puts commands on a bounded queue; the
render thread drains the queue once a frame and answers /status itself, after
applying everything that came before it, so a reply shows the values last set.

Anything else is ignored and counted, never raised: datagrams that are not OSC,
wrong argument types or counts, values out of range, unknown addresses. When
the queue is full (a flood faster than the frame rate drains it) the oldest
command is dropped and counted: show control wants the newest value to win.
Bundle time tags are ignored (a far-future tag must not park the thread).
Numbers may arrive as int or float (TouchDesigner sends floats): an integer
argument accepts a float with an integral value.

The server is python-osc's blocking UDP server in one daemon thread: messages
are handled one at a time in arrival order, so "the last value set" is the
last one sent; a thread per datagram (the threading server) would reorder them
and, under a flood, start thousands of threads beside the render thread.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from realtime.errors import InputError
from realtime.focus import FAR_FOCUS_M
from realtime.preview.controls import F_NUMBER_RANGE

QUEUE_SIZE = 256  # commands waiting for the render thread; beyond it the oldest are dropped
MAX_RACK_S = 600.0  # longest /focus/rack, seconds
POLL_S = 0.2  # the server thread checks for shutdown this often
RECEIVE_BUFFER = 1 << 20  # socket receive buffer asked for (the kernel may grant less)

Arg = float | int | str
Sender = tuple[str, int]


@dataclass(frozen=True)
class Address:
    """One OSC address: what it takes and does (the README's table)."""

    path: str  # the OSC address
    types: str  # argument types, OSC tags: f float, i integer, s string
    ranges: str  # valid values
    effect: str  # what the show does


ADDRESSES = (
    Address(
        "/focus/distance",
        "f",
        f"metres, beyond the focal length, up to {FAR_FOCUS_M:g}",
        "focus there at once; leaves the playlist",
    ),
    Address(
        "/focus/rack",
        "f f",
        f"metres (as above); seconds 0..{MAX_RACK_S:g}",
        "rack from the current focus; leaves the playlist",
    ),
    Address(
        "/focus/pick",
        "f f",
        "x, y: 0..1 of the width and height, from the top left",
        "rack to what is there (rack_duration); leaves the playlist",
    ),
    Address(
        "/lens/fnumber",
        "f",
        f"{F_NUMBER_RANGE[0]:g}..{F_NUMBER_RANGE[1]:g}",
        "f-number at once; leaves the playlist",
    ),
    Address("/cue/go", "i", "1..number of cues", "start that cue now, play on"),
    Address("/cue/next", "(none)", "an argument 0 is ignored", "start the next cue now"),
    Address(
        "/show/pause",
        "i",
        "1 pause, 0 resume",
        "pause or resume the playlist and the sources' playback",
    ),
    Address("/show/source", "s", "a [[source]] name", "cross-fade to that source (fade)"),
    Address(
        "/status",
        "(none)",
        "",
        "reply with /status/focus f, /status/fnumber f, /status/cue i, /status/fps f, "
        "/status/source s, /status/paused i, /status/received i, /status/ignored i, "
        "/status/dropped i",
    ),
)


@dataclass(frozen=True)
class Limits:
    """What values are valid right now; the render thread replaces it, never mutates it."""

    min_focus_m: float = 0.0  # nearest focus the lens can take, metres
    cues: int = 1  # cues in the playlist
    sources: tuple[str, ...] = ()  # source names


@dataclass(frozen=True)
class Command:
    """A checked message for the render thread."""

    address: str  # one of ADDRESSES
    args: tuple[Arg, ...]  # checked, converted (float, int or str)
    sender: Sender  # (host, port) it came from


@dataclass
class Counters:
    """What the server thread saw; only it writes them."""

    received: int = 0  # messages (and datagrams that were not OSC)
    accepted: int = 0  # passed the checks (a trigger's 0 included): queued, maybe dropped later
    malformed: int = 0  # datagrams that were not OSC
    wrong_type: int = 0  # wrong argument count or types
    out_of_range: int = 0  # values out of range
    unknown: int = 0  # addresses not in ADDRESSES
    dropped: int = 0  # good commands dropped (the oldest) because the queue was full

    @property
    def ignored(self) -> int:
        """Messages that failed a check: received = accepted + ignored."""
        return self.malformed + self.wrong_type + self.out_of_range + self.unknown

    def summary(self) -> str:
        return (
            f"osc: {self.received} received, {self.accepted} accepted, {self.ignored} ignored "
            f"({self.malformed} not OSC, {self.wrong_type} wrong types, "
            f"{self.out_of_range} out of range, {self.unknown} unknown addresses), "
            f"{self.dropped} dropped (queue full)"
        )


class Rejected(Exception):
    """A message that is ignored; `reason` names the counter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Checks: arguments -> converted arguments, or Rejected -------------------------------------


def _numbers(params: Sequence[Any], n: int, bools: bool = False) -> tuple[float, ...]:
    """n finite numbers (bools only if `bools`: OSC's T and F)."""
    if len(params) != n or not all(
        isinstance(p, int | float) and (bools or not isinstance(p, bool)) for p in params
    ):
        raise Rejected("wrong_type")
    values = tuple(float(p) for p in params)
    if not all(math.isfinite(v) for v in values):
        raise Rejected("out_of_range")
    return values


def _within(value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise Rejected("out_of_range")


def _integer(value: float) -> int:
    if value != math.floor(value):
        raise Rejected("wrong_type")
    return int(value)


def _distance(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    (d,) = _numbers(params, 1)
    _within(d, limits.min_focus_m, FAR_FOCUS_M)
    return (d,)


def _rack(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    d, s = _numbers(params, 2)
    _within(d, limits.min_focus_m, FAR_FOCUS_M)
    _within(s, 0.0, MAX_RACK_S)
    return d, s


def _pick(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    x, y = _numbers(params, 2)
    _within(x, 0.0, 1.0)
    _within(y, 0.0, 1.0)
    return x, y


def _f_number(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    (n,) = _numbers(params, 1)
    _within(n, *F_NUMBER_RANGE)
    return (n,)


def _go(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    (i,) = _numbers(params, 1)
    cue = _integer(i)
    _within(cue, 1, limits.cues)
    return (cue,)


def _trigger(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...] | None:
    """No argument, or one number: a button's press (not 0) triggers, its release (0) not."""
    if not params:
        return ()
    (v,) = _numbers(params, 1, bools=True)
    return () if v != 0 else None


def _pause(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    (v,) = _numbers(params, 1, bools=True)
    flag = _integer(v)
    _within(flag, 0, 1)
    return (flag,)


def _source(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    if len(params) != 1 or not isinstance(params[0], str):
        raise Rejected("wrong_type")
    if params[0] not in limits.sources:
        raise Rejected("out_of_range")
    return (params[0],)


Check = Callable[[Sequence[Any], Limits], tuple[Arg, ...] | None]
CHECKS: dict[str, Check] = {
    "/focus/distance": _distance,
    "/focus/rack": _rack,
    "/focus/pick": _pick,
    "/lens/fnumber": _f_number,
    "/cue/go": _go,
    "/cue/next": _trigger,
    "/show/pause": _pause,
    "/show/source": _source,
    "/status": _trigger,
}
assert set(CHECKS) == {a.path for a in ADDRESSES}


def _quiet_python_osc(record: logging.LogRecord) -> bool:
    """python-osc logs a warning on the root logger for every odd type tag it parses: a
    flood of odd messages must not become a flood of log lines (they are counted instead)."""
    return "pythonosc" not in record.pathname


# --- The receiver ----------------------------------------------------------------------------


class OscControl:
    """Checks OSC datagrams into a bounded queue of Commands; serves them from a UDP thread."""

    def __init__(self, queue_size: int = QUEUE_SIZE, reply_port: int | None = None) -> None:
        self.queue: deque[Command] = deque()
        self.queue_size = queue_size
        self.lock = threading.Lock()  # the queue is shared by the server and render threads
        self.counts = Counters()
        self.limits = Limits()
        self.reply_port = reply_port  # None: reply to the sender's port
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.address: Sender | None = None  # where the server listens

    # -- the server thread --

    def call_handlers_for_packet(self, data: bytes, client_address: Sender) -> list[Any]:
        """python-osc's dispatcher hook: handle one datagram; nothing to send back."""
        self.handle_packet(data, client_address)
        return []

    def handle_packet(self, data: bytes, sender: Sender) -> None:
        """Parse a datagram (message or bundle) and handle each message; never raises."""
        from pythonosc.osc_packet import OscPacket

        try:
            messages = [timed.message for timed in OscPacket(data).messages]
            if not messages:
                raise ValueError("an empty bundle")
        except Exception:  # ParseError, and whatever else odd bytes provoke
            self.counts.received += 1
            self.counts.malformed += 1
            return
        for message in messages:
            self.counts.received += 1
            try:
                address, params = message.address, list(message.params)
            except Exception:
                self.counts.malformed += 1
                continue
            self.handle_message(address, params, sender)

    def handle_message(self, address: str, params: Sequence[Any], sender: Sender) -> None:
        """Check one message and queue it (or count why not)."""
        check = CHECKS.get(address)
        if check is None:
            self.counts.unknown += 1
            return
        try:
            args = check(params, self.limits)
        except Rejected as r:
            setattr(self.counts, r.reason, getattr(self.counts, r.reason) + 1)
            return
        self.counts.accepted += 1
        if args is None:  # a button's release
            return
        with self.lock:
            if len(self.queue) >= self.queue_size:
                self.queue.popleft()
                self.counts.dropped += 1
            self.queue.append(Command(address, args, sender))

    # -- the render thread --

    def drain(self) -> list[Command]:
        """Every queued command, oldest first."""
        with self.lock:
            out = list(self.queue)
            self.queue.clear()
        return out

    def reply(self, sender: Sender, values: Sequence[tuple[str, Arg]]) -> None:
        """Send one message per (address, value) to the sender (or to --osc-reply-port)."""
        if self.server is None:
            return
        from pythonosc.osc_message_builder import OscMessageBuilder

        target = (sender[0], self.reply_port or sender[1])
        for address, value in values:
            builder = OscMessageBuilder(address)
            if isinstance(value, str):
                builder.add_arg(value, "s")
            elif isinstance(value, int):
                builder.add_arg(value, "i")
            else:
                builder.add_arg(float(value), "f")
            try:
                self.server.socket.sendto(builder.build().dgram, target)
            except OSError:
                return  # the client is gone; nothing to tell it

    # -- lifetime --

    def start(self, host: str, port: int) -> Sender:
        """Listen on UDP host:port (0: any free port) in a daemon thread; where it listens."""
        try:
            from pythonosc.osc_server import BlockingOSCUDPServer
        except ImportError:
            raise InputError("OSC needs python-osc: pip install 'rackfocus[show]'") from None

        class Server(BlockingOSCUDPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                return True  # datagrams that are not OSC are counted, not silently dropped

        logging.getLogger().addFilter(_quiet_python_osc)
        try:
            server = Server((host, port), self)  # type: ignore[arg-type]
        except (OSError, OverflowError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InputError(f"OSC: cannot listen on UDP {host}:{port} ({reason})") from e
        try:
            server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        except OSError:
            pass
        self.server = server
        self.address = (str(server.server_address[0]), int(server.server_address[1]))
        self.thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": POLL_S}, name="osc", daemon=True
        )
        self.thread.start()
        return self.address

    def close(self) -> None:
        logging.getLogger().removeFilter(_quiet_python_osc)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


__all__ = ["ADDRESSES", "Command", "Counters", "Limits", "OscControl", "QUEUE_SIZE"]
