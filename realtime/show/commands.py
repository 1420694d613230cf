"""Show control's one command model: what each command means, takes and changes, and what
/status reports. OSC and the web remote are transports: they parse and authenticate, then
hand (name, arguments) to an `Intake`, which checks them here and queues them for the
render thread. A transport adds no command semantics: the same message is the same
Command, checked against the same Limits, through the same queue, whichever way it came.

Names are OSC addresses (the web remote sends `{"address": ..., "args": [...]}`). A
message that fails a check is ignored and counted, never raised: wrong argument types or
counts, values out of range, unknown names. When the queue is full (a flood faster than
the frame rate drains it) the oldest command is dropped and counted: show control wants
the newest value to win. Numbers may arrive as int or float (TouchDesigner sends floats):
an integer argument accepts a float with an integral value.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from realtime.focus import FAR_FOCUS_M
from realtime.preview.controls import F_NUMBER_RANGE
from realtime.show.playlist import SUBJECTS
from realtime.show.soak import percentile

QUEUE_SIZE = 256  # commands waiting for the render thread; beyond it the oldest are dropped
MAX_RACK_S = 600.0  # longest /focus/rack, seconds
LATENCIES_KEPT = 4096  # command latencies (arrival -> frame presented) kept for the report

Arg = float | int | str
Reply = Callable[[list[tuple[str, Arg]]], None]  # sends (address, value) pairs back


@dataclass(frozen=True)
class Limits:
    """What values are valid right now; the render thread replaces it, never mutates it."""

    min_focus_m: float = 0.0  # nearest focus the lens can take, metres
    cues: int = 1  # cues in the playlist
    sources: tuple[str, ...] = ()  # source names
    commands: frozenset[str] | None = None  # the names this front end offers; None: all


class Rejected(Exception):
    """A message that is ignored; `reason` names the counter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Checks: arguments -> converted arguments, or Rejected -------------------------------------


def _numbers(params: Sequence[Any], n: int, bools: bool = False) -> tuple[float, ...]:
    """n finite numbers (bools only if `bools`: OSC's T and F, JSON's true and false)."""
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


def _string(params: Sequence[Any]) -> str:
    if len(params) != 1 or not isinstance(params[0], str):
        raise Rejected("wrong_type")
    return params[0]


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


def _subject(params: Sequence[Any], limits: Limits) -> tuple[Arg, ...]:
    which = _string(params)
    if which not in SUBJECTS:
        raise Rejected("out_of_range")
    return (which,)


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
    name = _string(params)
    if name not in limits.sources:
        raise Rejected("out_of_range")
    return (name,)


Check = Callable[[Sequence[Any], Limits], tuple[Arg, ...] | None]


@dataclass(frozen=True)
class Spec:
    """One command: its name, what it takes and does (the README's OSC table), its check."""

    path: str  # the name: an OSC address, the web message's "address"
    types: str  # argument types, OSC tags: f float, i integer, s string
    ranges: str  # valid values
    effect: str  # what the show does
    check: Check  # arguments -> checked arguments, None (a button's release), or Rejected


# What /status reports: (name, the Status field, OSC type). OSC replies /status/NAME.
STATUS_FIELDS = (
    ("focus", "focus_m", "f"),
    ("fnumber", "f_number", "f"),
    ("cue", "cue", "i"),
    ("fps", "fps", "f"),
    ("source", "source", "s"),
    ("paused", "paused", "i"),
    ("received", "received", "i"),
    ("ignored", "ignored", "i"),
    ("dropped", "dropped", "i"),
    ("refused", "refused", "i"),
    ("frames_sent", "frames_sent", "i"),
    ("frames_dropped", "frames_dropped", "i"),
)

COMMANDS = (
    Spec(
        "/focus/distance",
        "f",
        f"metres, beyond the focal length, up to {FAR_FOCUS_M:g}",
        "focus there at once; leaves the playlist",
        _distance,
    ),
    Spec(
        "/focus/rack",
        "f f",
        f"metres (as above); seconds 0..{MAX_RACK_S:g}",
        "rack from the current focus; leaves the playlist",
        _rack,
    ),
    Spec(
        "/focus/pick",
        "f f",
        "x, y: 0..1 of the width and height, from the top left",
        "rack to what is there (rack_duration); leaves the playlist",
        _pick,
    ),
    Spec(
        "/focus/subject",
        "s",
        " or ".join(SUBJECTS),
        "rack to the nearest subject or the background (rack_duration); leaves the playlist",
        _subject,
    ),
    Spec(
        "/lens/fnumber",
        "f",
        f"{F_NUMBER_RANGE[0]:g}..{F_NUMBER_RANGE[1]:g}",
        "f-number at once; leaves the playlist",
        _f_number,
    ),
    Spec("/cue/go", "i", "1..number of cues", "start that cue now, play on", _go),
    Spec("/cue/next", "(none)", "an argument 0 is ignored", "start the next cue now", _trigger),
    Spec(
        "/show/pause",
        "i",
        "1 pause, 0 resume",
        "pause or resume the playlist and the sources' playback",
        _pause,
    ),
    Spec("/show/source", "s", "a [[source]] name", "cross-fade to that source (fade)", _source),
    Spec(
        "/status",
        "(none)",
        "",
        "reply with " + ", ".join(f"/status/{name} {tag}" for name, _, tag in STATUS_FIELDS),
        _trigger,
    ),
)
BY_PATH = {spec.path: spec for spec in COMMANDS}


def check(path: str, params: Sequence[Any], limits: Limits) -> tuple[Arg, ...] | None:
    """The checked arguments of a command (None: a button's release); Rejected if bad. A
    name the front end does not offer (the preview has no cues) is as unknown as a typo."""
    spec = BY_PATH.get(path)
    if spec is None or (limits.commands is not None and path not in limits.commands):
        raise Rejected("unknown")
    return spec.check(params, limits)


def offered(limits: Limits) -> list[str]:
    """The names of the commands on offer, in COMMANDS order (what the web page shows)."""
    return [s.path for s in COMMANDS if limits.commands is None or s.path in limits.commands]


# --- Commands, counts and the queue ------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A checked command for the render thread; equal commands mean the same thing."""

    path: str  # one of COMMANDS
    args: tuple[Arg, ...]  # checked, converted (float, int or str)
    reply: Reply | None = field(default=None, compare=False)  # where /status goes
    received_s: float = field(default=0.0, compare=False)  # perf_counter when it arrived


@dataclass
class Counters:
    """What one transport saw; only its thread writes them (drops: under the queue's lock)."""

    received: int = 0  # messages (and datagrams or frames that were not messages)
    accepted: int = 0  # passed the checks (a trigger's 0 included): queued, maybe dropped later
    malformed: int = 0  # not a message: not OSC, not JSON of the right shape
    oversized: int = 0  # longer than the transport takes
    wrong_type: int = 0  # wrong argument count or types
    out_of_range: int = 0  # values out of range
    unknown: int = 0  # names not in COMMANDS, or not offered (Limits.commands)
    refused: int = 0  # connections refused: a wrong or missing token
    dropped: int = 0  # good commands dropped (the oldest) because the queue was full

    @property
    def ignored(self) -> int:
        """Messages that failed a check: received = accepted + ignored."""
        return self.malformed + self.oversized + self.wrong_type + self.out_of_range + self.unknown

    def summary(self, transport: str, malformed: str, web: bool = False) -> str:
        size = f"{self.oversized} too large, " if web else ""
        refused = f", {self.refused} refused (token)" if web else ""
        return (
            f"{transport}: {self.received} received, {self.accepted} accepted, "
            f"{self.ignored} ignored ({self.malformed} {malformed}, {size}"
            f"{self.wrong_type} wrong types, {self.out_of_range} out of range, "
            f"{self.unknown} unknown addresses){refused}, {self.dropped} dropped (queue full)"
        )


def total(counts: Sequence[Counters]) -> Counters:
    """Every transport's counts added up (what /status reports)."""
    names = [f.name for f in fields(Counters)]
    return Counters(**{n: sum(getattr(c, n) for c in counts) for n in names})


class CommandQueue:
    """The one bounded queue from every transport to the render thread, and the Limits."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.items: deque[tuple[Command, Counters]] = deque()
        self.limits = Limits()  # replaced by the render thread, read by the transports

    def put(self, command: Command, counts: Counters) -> None:
        with self.lock:
            if len(self.items) >= self.size:
                _, owner = self.items.popleft()
                owner.dropped += 1
            self.items.append((command, counts))

    def drain(self) -> list[Command]:
        """Every queued command, oldest first."""
        with self.lock:
            out = [command for command, _ in self.items]
            self.items.clear()
        return out


class Intake:
    """One transport's door to the queue: check, count, queue. Both transports call
    `submit` with what they parsed, so a command's checks and effects are the same."""

    def __init__(self, queue: CommandQueue) -> None:
        self.queue = queue
        self.counts = Counters()

    def submit(self, path: str, params: Sequence[Any], reply: Reply | None = None) -> None:
        """A parsed message (already counted as received): queue it, or count why not."""
        try:
            args = check(path, params, self.queue.limits)
        except Rejected as r:
            setattr(self.counts, r.reason, getattr(self.counts, r.reason) + 1)
            return
        self.counts.accepted += 1
        if args is not None:  # None: a button's release
            self.queue.put(Command(path, args, reply, time.perf_counter()), self.counts)


@dataclass(frozen=True)
class Status:
    """What /status reports (STATUS_FIELDS names it for OSC and the web)."""

    focus_m: float  # focus distance, metres
    f_number: float  # f-number
    cue: int  # the cue playing, 1-based
    fps: float  # frames presented per second, lately
    source: str  # the source on screen (or fading in)
    paused: int  # 1: the playlist is paused (a manual command, or /show/pause 1)
    received: int  # messages received, every transport
    ignored: int  # messages ignored (failed a check), every transport
    dropped: int  # commands dropped from a full queue
    refused: int  # web connections refused: a wrong or missing token
    frames_sent: int = 0  # frames sent on by the sinks (NDI, stream), all together
    frames_dropped: int = 0  # frames the sinks dropped (a full queue, a failed sender)


def status_values(status: Status) -> list[tuple[str, Arg]]:
    """(name, value) in STATUS_FIELDS order; OSC sends each to /status/NAME."""
    return [(name, getattr(status, attr)) for name, attr, _ in STATUS_FIELDS]


def latency_report(latencies_s: Sequence[float]) -> str:
    """The log's line on commands applied: arrival to the frame that applied them presented."""
    ms = [1000.0 * s for s in latencies_s]
    return (
        f"commands: {len(ms)} applied, arrival to frame presented p50 "
        f"{percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {percentile(ms, 100):.1f} ms"
    )


__all__ = [
    "COMMANDS",
    "Command",
    "CommandQueue",
    "Counters",
    "Intake",
    "LATENCIES_KEPT",
    "Limits",
    "MAX_RACK_S",
    "QUEUE_SIZE",
    "Rejected",
    "STATUS_FIELDS",
    "Spec",
    "Status",
    "check",
    "latency_report",
    "offered",
    "status_values",
    "total",
]
