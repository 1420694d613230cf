"""The web remote on the preview (--web PORT): the show's page, server and command model
(realtime.show.web, realtime.show.commands) driving a preview window.

The preview has no playlist and no sources, so it offers the commands that make sense
without them (OFFERS): tap the thumbnail to rack there, the focus slider, near and far,
the f-number, pause and play, /status. Any other name is refused as unknown and counted,
as a typo is; the state message names the commands on offer and the page hides the
controls of the rest. Messages go through the same Intake checks and counters as the
show's, and each turn of the preview's loop:

    obey       with the turn's events: apply the queued commands (they wake an idle
               loop: the server posts glfw an empty event)
    capture    after drawing, before the swap: a thumbnail when one is due
    presented  at the end of the turn: latencies, and the state for the clients

The preview draws only when the picture changes, where the show draws every frame: a
client that has not seen the picture on screen (it just connected, or the last change
came sooner than THUMBNAIL_FPS allows) gets a redraw when its thumbnail is due.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.errors import InputError
from realtime.focus import FAR_FOCUS_M, pixel_of, subject_depths
from realtime.lens import Lens
from realtime.preview.controls import min_focus_m
from realtime.show.commands import (
    LATENCIES_KEPT,
    Command,
    CommandQueue,
    Limits,
    Status,
    latency_report,
    status_values,
)
from realtime.show.playlist import SUBJECTS

if TYPE_CHECKING:
    from realtime.preview.app import Preview
    from realtime.show.thumbnail import Thumbnailer


@dataclass(frozen=True)
class Offer:
    """A command of the model (realtime.show.commands.COMMANDS) as the preview applies it;
    the model checks it, whichever front end runs."""

    path: str  # the command's name (an OSC address)
    control: str  # what sends it on the page
    effect: str  # what the preview does


OFFERS = (
    Offer("/focus/pick", "tap the thumbnail", "rack to what is there, as a click does"),
    Offer("/focus/distance", "focus slider", "focus there at once"),
    Offer("/focus/rack", "none (scripts)", "rack from the current focus over the seconds given"),
    Offer(
        "/focus/subject",
        "near, far",
        "rack to the nearest subject or the background, as a click does",
    ),
    Offer("/lens/fnumber", "f-number slider", "f-number at once; not offered with --blur"),
    Offer(
        "/show/pause",
        "pause / play",
        "pause or play what plays, as space does (a sequence, a video, --cues); "
        "offered only when something plays",
    ),
    Offer("/status", "the status line", "reply with the status: cue 0, source the input's name"),
)


def preview_commands(lens: Lens, plays: bool) -> frozenset[str]:
    """The names a preview offers: no f-number when --blur sets the blur in pixels, no
    pause when nothing plays (a still without --cues, a camera)."""
    out = {offer.path for offer in OFFERS}
    if lens.artistic_blur_px is not None:
        out.discard("/lens/fnumber")
    if not plays:
        out.discard("/show/pause")
    return frozenset(out)


class PreviewRemote:
    """The web remote's server thread and the preview's side of it (the render thread):
    commands in, state and thumbnails out."""

    def __init__(self, preview: Preview) -> None:
        from realtime.show.web import WebRemote, new_token

        options, controls = preview.options, preview.controls
        self.preview = preview
        self.queue = CommandQueue()
        plays = preview.playback is not None or controls.cues is not None
        commands = preview_commands(controls.lens, plays)
        self.queue.limits = Limits(min_focus_m(controls.lens), commands=commands)
        self.pauses = "/show/pause" in commands  # something plays, and may be paused
        self.web = WebRemote(self.queue, options.web_token or new_token())
        self.web.wake = self._wake
        self.glfw: Any = preview.window.glfw
        self.woken = False  # the server had news: a command, or a client came
        self.stale = True  # the picture drawn last has not gone out as a thumbnail
        self.applied: list[Command] = []  # the commands of this turn
        self.latencies_s: deque[float] = deque(maxlen=LATENCIES_KEPT)  # arrival -> presented
        self.t = 0.0  # preview time of this turn
        self.subjects: tuple[np.ndarray, tuple[float, float]] | None = None  # per depth map
        self.thumbnailer: Thumbnailer | None = None  # made with the first thumbnail

    def start(self) -> None:
        """Listen (InputError where it cannot) and say where, with the token."""
        options = self.preview.options
        assert options.web_port is not None
        host, port = self.web.start(options.web_host, options.web_port)
        self.preview.log(f"web remote: listening on TCP {host}:{port}: open {self.web.url()}")

    def _wake(self) -> None:
        """The server thread: news for the render thread, which may be asleep in glfw."""
        self.woken = True
        self.glfw.post_empty_event()

    # -- the render thread --

    def obey(self, t: float) -> None:
        """Apply the commands queued since the last turn at preview time t; ask for a
        redraw when a client is due the picture on screen."""
        now = time.perf_counter()
        self.t = t
        if self.woken:
            self.woken = False
            self.stale = True  # a new client has no thumbnail yet
        self.applied = self.queue.drain()
        for command in self.applied:
            self.apply(command, t, now)
        if self.applied or (self.stale and self.web.wants_thumbnail(now)):
            self.preview.dirty = True

    def apply(self, command: Command, t: float, now: float) -> None:
        """One checked command, offered by the preview (the checks refused the rest)."""
        controls, args, path = self.preview.controls, command.args, command.path
        if path == "/focus/pick":
            height, width = np.shape(controls.depth_m)[:2]
            controls.click(*pixel_of(float(args[0]), float(args[1]), (width, height)), t)
        elif path == "/focus/distance":
            controls.rack_to(float(args[0]), 0.0, t)
        elif path == "/focus/rack":
            controls.rack_to(float(args[0]), float(args[1]), t)
        elif path == "/focus/subject":
            target = self.subject(SUBJECTS.index(str(args[0])))
            if target is not None:
                controls.rack_to(target, controls.rack_duration_s, t)
        elif path == "/lens/fnumber":
            controls.set_f_number(float(args[0]), t)
        elif path == "/show/pause":
            if bool(args[0]) == self.playing():  # pause what plays, or play what is paused
                self.preview.toggle_play(t)
        elif path == "/status" and command.reply is not None:
            command.reply(status_values(self.status(t, now)))

    def subject(self, which: int) -> float | None:
        """The nearest subject (0) or the background (1) of the frame on screen, within
        what the lens can focus on; None (and a line) when the frame has no valid depth."""
        depth = self.preview.controls.depth_m
        assert depth is not None
        if self.subjects is None or self.subjects[0] is not depth:
            try:
                self.subjects = (depth, subject_depths(depth))
            except InputError as e:
                self.preview.log(f"web remote: no subject to rack to ({e})")
                return None
        lens = self.preview.controls.lens
        return min(max(self.subjects[1][which], min_focus_m(lens)), FAR_FOCUS_M)

    def playing(self) -> bool:
        """Whether a cue timeline or the input frames play."""
        p = self.preview
        return p.controls.playing or (p.playback is not None and p.playback.playing)

    def status(self, t: float, now: float) -> Status:
        """What /status reports: no cue (0), the input's name as the source."""
        p = self.preview
        lens = p.controls.lens_at(t)
        counts = self.web.counts
        return Status(
            lens.focus_m,
            lens.f_number,
            0,
            p.stats.fps(now),
            p.options.label,
            int(self.pauses and not self.playing()),
            counts.received,
            counts.ignored,
            counts.dropped,
            counts.refused,
            p.sinks.sent,
            p.sinks.dropped,
        )

    def capture(self, now: float) -> None:
        """After drawing, before the swap: the picture drawn, small, when a thumbnail is due
        (else it is stale until the next is)."""
        from realtime.show.thumbnail import Thumbnailer
        from realtime.show.web import THUMBNAIL_WIDTH_PX

        p = self.preview
        framebuffer = p.window.framebuffer_size
        if not self.web.wants_thumbnail(now) or min(framebuffer) <= 0:
            self.stale = True
            return
        if self.thumbnailer is None:
            self.thumbnailer = Thumbnailer(p.ctx, self.glfw.get_proc_address)
        pixels = self.thumbnailer.read(framebuffer, p.image_size, THUMBNAIL_WIDTH_PX)
        self.web.offer_thumbnail(pixels, now)
        self.stale = False

    def presented(self, now: float) -> None:
        """The end of a turn: the commands applied are on screen; the clients hear, at once
        after a command, else at most STATE_HZ a second."""
        from realtime.show.web import state_message

        for command in self.applied:
            self.latencies_s.append(now - command.received_s)
        if self.web.wants_state(now, urgent=bool(self.applied)):
            status = self.status(self.t, now)
            self.web.publish(state_message(status, (), self.queue.limits), now)
        self.applied = []

    def wait_s(self) -> float:
        """How long an idle preview may sleep: until a stale picture's thumbnail is due."""
        from realtime.show.web import THUMBNAIL_FPS

        if not self.stale or not self.web.clients:
            return math.inf
        return self.web.thumbnail_at + 1.0 / THUMBNAIL_FPS - time.perf_counter()

    def summaries(self) -> list[str]:
        """--stats: what the web remote received, ignored, dropped and refused; latencies."""
        lines = [self.web.summary()]
        if self.latencies_s:
            lines.append(latency_report(self.latencies_s))
        return lines

    def close(self) -> None:
        """Stop the server (before the window goes: it wakes glfw) and free the target."""
        self.web.close()
        if self.thumbnailer is not None:
            self.thumbnailer.release()
            self.thumbnailer = None


__all__ = ["OFFERS", "Offer", "PreviewRemote", "preview_commands"]
