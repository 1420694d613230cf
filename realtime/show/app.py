"""The show loop: commands and config edits in, the Director's lens and source out, every frame.

Each turn of the loop, at show time t (wall clock, or frame * --fixed-dt):

    window events        Esc / Q close a rehearsal window (fullscreen ignores keys)
    config edits         a checked edit waits for the next cue boundary; a broken one is
                         one log line, and the last good config stays
    commands             from OSC and the web remote, through one queue, in order;
                         /status is answered here, after everything sent before it
                         was applied
    sources              the frames on screen advance (a failing one keeps its last frame)
    Director             starts the cues whose time has come, steps the autofocus
    decks                the source the Director wants goes on the idle deck (a cross-fade)
    draw, present        the composite(s), mixed during a fade; a thumbnail for the web
                         remote (a few a second, while a client is connected); the
                         read-back for NDI and the stream (realtime.outputs.sinks); swap;
                         the frame to the sinks' queues; watchdog ping; the web
                         remote's state

The loop presents a frame every turn (the watchdog must see frames, not just a
live process), capped at --max-fps (the monitor's refresh, else 60) when vsync
does not block.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections import deque
from dataclasses import fields, replace
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.errors import InputError
from realtime.focus import AutoTarget, resolve_target
from realtime.outputs.sinks import Sinks
from realtime.preview.controls import min_focus_m
from realtime.preview.scaling import AdaptiveScale
from realtime.show.commands import (
    LATENCIES_KEPT,
    Command,
    CommandQueue,
    Counters,
    Limits,
    Status,
    latency_report,
    total,
)
from realtime.show.commands import status_values as status_pairs
from realtime.show.config import ShowConfig, ShowSettings
from realtime.show.inputs import ShowSource
from realtime.show.options import SOAK_DT_S, ShowOptions, load
from realtime.show.osc import OscControl
from realtime.show.output import Deck, ShowOutput
from realtime.show.playlist import Director, Program, describe
from realtime.show.service import ConfigWatcher, Watchdog, close_log, open_log
from realtime.show.soak import (
    FrameClock,
    Sample,
    gl_objects,
    resident_bytes,
    soak_report,
    warmup_frames,
)

if TYPE_CHECKING:
    from realtime.show.web import WebRemote

DEFAULT_MAX_FPS = 60.0  # frame-rate cap when the monitor does not say its refresh rate
RELOADABLE = ("rack_duration_s", "fade_s", "status_interval_s")  # [show] keys an edit changes


def frame_cap(settings: ShowSettings, refresh_hz: float) -> float | None:
    """Frames per second the loop sleeps down to: --max-fps; none when vsync paces a monitor
    of known refresh; else that refresh, or DEFAULT_MAX_FPS (Xvfb reports 0)."""
    if settings.max_fps is not None:
        return settings.max_fps
    if settings.vsync and refresh_hz > 0:
        return None
    return refresh_hz if refresh_hz > 0 else DEFAULT_MAX_FPS


class Show:
    """The sources, the Director, the output, OSC and the config watcher; `run` is the loop."""

    def __init__(self, options: ShowOptions, config: ShowConfig, log: logging.Logger) -> None:
        self.options = options
        self.config = config
        self.pending: ShowConfig | None = None  # an edited config waiting for a cue boundary
        self.settings = options.settings(config.settings)
        self.log = log
        self.fixed_dt = options.fixed_dt or (SOAK_DT_S if options.soak else None)
        self.frame_limit = options.soak or options.frames
        self.stop = False
        self.show_paused = False  # /show/pause 1: playlist and playback
        self.clock = FrameClock(times_s=np.zeros(options.soak) if options.soak else None)
        self.screenshot: np.ndarray | None = None
        self.warm: Sample | None = None  # a soak's sample after the warm-up
        self.end: Sample | None = None  # and at its end
        self.status_at = time.perf_counter()
        self.t = 0.0  # show time of the last frame
        now = time.perf_counter()
        first = ShowSource(config.sources[0], 0.0, now, self.info)
        if first.failure is not None or first.depth is None:
            raise InputError(f"source '{first.name}': {first.failure}")
        focus = config.focus_m if config.focus_m is not None else options.focus_m
        if focus is None:
            focus = resolve_target(AutoTarget(), first.depth)  # centre autofocus
        lens = config.lens.with_focus(max(focus, min_focus_m(config.lens)))
        program = Program(
            config.playlist, lens, self.settings.rack_duration_s, self.settings.fade_s
        )
        self.director = Director(program, first.name, 0.0, self.info)
        self.commands = CommandQueue()  # from every transport to this thread
        self.applied: list[Command] = []  # commands applied in the frame being drawn
        self.latencies_s: deque[float] = deque(maxlen=LATENCIES_KEPT)  # arrival -> presented
        self.osc: OscControl | None = None
        self.web: WebRemote | None = None
        self.watcher: ConfigWatcher[ShowConfig] | None = None
        self.sinks = Sinks([])
        try:
            s = self.settings
            nominal_fps = 1.0 / self.fixed_dt if self.fixed_dt else s.max_fps or DEFAULT_MAX_FPS
            self.sinks = Sinks.open(s.ndi, s.stream, nominal_fps, self.info)
            if s.osc_port is not None:
                self.osc = OscControl(self.commands, reply_port=s.osc_reply_port)
                host, port = self.osc.start(s.osc_host, s.osc_port)
                self.info(f"OSC: listening on UDP {host}:{port}")
            if s.web_port is not None:
                from realtime.show.web import WebRemote, new_token

                self.web = WebRemote(self.commands, s.web_token or new_token())
                host, port = self.web.start(s.web_host, s.web_port)
                self.info(f"web remote: listening on TCP {host}:{port}: open {self.web.url()}")
            height, width = first.depth.shape
            self.output = ShowOutput(s, (width, height), lens.clamp_px)
            try:
                window = self.output.window.framebuffer_size
                for deck in self.output.decks:  # both warm: every pass compiled, target made
                    deck.load(first)
                    deck.compose(lens, window=window)
            except BaseException:
                self.output.close()
                raise
        except BaseException:
            first.close()
            if self.osc is not None:
                self.osc.close()
            if self.web is not None:
                self.web.close()
            self.sinks.close()
            raise
        self.decks = self.output.decks
        self.adaptive = AdaptiveScale(0.0 if self.fixed_dt is not None else s.target_fps)
        self.scale = 1.0  # of the frame being drawn
        self.moving = False
        self.last_picture: tuple[object, ...] | None = None
        self.live = 0  # the deck showing the Director's source
        self.max_fps = frame_cap(s, self.output.refresh_hz)
        self.publish_limits()
        if config.path is not None:
            self.watcher = ConfigWatcher(config.path, lambda _path: load(options))
            if not self.watcher.start():
                self.info(
                    "config reload off: watchfiles is missing (pip install 'rackfocus[show]')"
                )
        self.watchdog = Watchdog(self.info)
        w, h = self.output.window.framebuffer_size
        where = (
            "a window"
            if not self.output.window.fullscreen
            else f"fullscreen on monitor {s.monitor}"
        )
        self.info(
            f"showing '{first.name}' ({width}x{height}) in {where} ({w}x{h}), "
            f"{len(config.playlist)} cues, {len(config.sources)} sources"
        )
        self.director.update(0.0, first.depth)  # cue 1 runs before the first command arrives

    def info(self, line: str) -> None:
        self.log.info(line)

    # -- commands and edits --

    def depth(self) -> np.ndarray | None:
        """The depth map on screen (the live deck's, else the other's while it stands in)."""
        for deck in (self.decks[self.live], self.decks[1 - self.live]):
            if deck.ready:
                assert deck.source is not None
                return deck.source.depth
        return None

    def obey(self, command: Command, t: float, now: float) -> None:
        """Apply one checked command (OSC or web: the same Command) at show time t."""
        d, args = self.director, command.args
        address = command.path
        if address == "/focus/distance":
            d.rack_to(float(args[0]), 0.0, t)
        elif address == "/focus/rack":
            d.rack_to(float(args[0]), float(args[1]), t)
        elif address == "/focus/pick":
            d.pick(float(args[0]), float(args[1]), t, self.depth())
        elif address == "/focus/subject":
            d.subject(str(args[0]), t, self.depth())
        elif address == "/lens/fnumber":
            d.set_f_number(float(args[0]), t)
        elif address == "/cue/go" and 1 <= int(args[0]) <= len(d.playlist):
            self.set_paused(False, t)
            d.go(int(args[0]) - 1, t, self.depth())
        elif address == "/cue/next":
            self.set_paused(False, t)
            d.next(t, self.depth())
        elif address == "/show/pause":
            self.set_paused(bool(args[0]), t)
        elif address == "/show/source" and args[0] in self.config.source_names:
            if args[0] != d.source:
                self.info(f"command: cross-fade to source '{args[0]}'")
            d.switch(str(args[0]), t)
        elif address == "/status" and command.reply is not None:
            command.reply(status_pairs(self.status(t, now)))

    def set_paused(self, paused: bool, t: float) -> None:
        """/show/pause: the playlist and the sources' playback together."""
        self.show_paused = paused
        if paused:
            self.director.pause(t)
        else:
            self.director.resume(t)
        for deck in self.decks:
            if deck.source is not None:
                (deck.source.pause if paused else deck.source.play)(t)

    def transports(self) -> list[Counters]:
        return [x.counts for x in (self.osc, self.web) if x is not None]

    def status(self, t: float, now: float) -> Status:
        """What /status reports (the counts: every transport's, added up)."""
        lens = self.director.lens_at(t)
        c = total(self.transports())
        return Status(
            lens.focus_m,
            lens.f_number,
            self.director.index + 1,
            self.clock.fps(now),
            self.director.source,
            int(self.director.paused),
            c.received,
            c.ignored,
            c.dropped,
            c.refused,
            self.sinks.sent,
            self.sinks.dropped,
        )

    def web_state(self, now: float) -> dict[str, Any]:
        """The web remote's state message: /status, and what the page's controls offer."""
        from realtime.show.web import state_message

        cues = [describe(cue) for cue in self.director.playlist]
        return state_message(self.status(self.t, now), cues, self.commands.limits)

    def publish_limits(self) -> None:
        """Tell the transports' threads what values are valid now."""
        self.commands.limits = Limits(
            min_focus_m(self.director.lens),
            len(self.director.playlist),
            self.config.source_names,
        )

    def take_edit(self) -> None:
        """A config edit the watcher parsed: wait for the cue boundary, or say why not."""
        if self.watcher is None or (result := self.watcher.take()) is None:
            return
        config, error = result
        if config is None:
            self.log.warning(f"config edit rejected, the last good config stays: {error}")
            return
        s = self.options.settings(config.settings)
        self.pending = config
        self.director.pending = Program(config.playlist, config.lens, s.rack_duration_s, s.fade_s)
        self.info("config edit accepted: it takes effect at the next cue boundary")

    def apply_edit(self, t: float) -> None:
        """The Director took the pending playlist: sources and settings follow it."""
        assert self.pending is not None
        config, self.pending = self.pending, None
        new = self.options.settings(config.settings)
        kept = [f.name for f in fields(ShowSettings) if f.name not in RELOADABLE]
        later = [k for k in kept if getattr(new, k) != getattr(self.settings, k)]
        if later:
            self.info(f"config: {', '.join(later)} take effect when the show restarts")
        self.settings = replace(self.settings, **{k: getattr(new, k) for k in RELOADABLE})
        self.config = config
        name = self.director.source
        live = self.decks[self.live].source
        if name not in config.source_names:
            first = config.sources[0].name
            self.info(f"source '{name}' is no longer in the config: cross-fade to '{first}'")
            self.director.switch(first, t)
        elif live is not None and live.name == name and live.spec != config.source(name):
            self.info(f"source '{name}' changed in the config: cross-fade to its new inputs")
            self.director.switch(name, t, force=True)
        self.publish_limits()

    # -- decks and drawing --

    def sync_decks(self, t: float, now: float) -> None:
        """Put the source the Director wants on screen: on the idle deck, which goes live."""
        want = self.config.source(self.director.source)
        live = self.decks[self.live].source
        if live is not None and live.spec == want:
            return
        idle = 1 - self.live
        held = self.decks[idle].source
        if held is not None and held is not live and held.spec == want:
            held.restart(t)
        else:
            held = ShowSource(want, t, now, self.info)
            self._load(idle, held)
        if self.show_paused:
            held.pause(t)
        self.live = idle

    def _load(self, index: int, source: ShowSource) -> None:
        old = self.decks[index].source
        self.decks[index].load(source)
        if old is not None and old is not self.decks[1 - index].source:
            old.close()

    def shown(self, t: float) -> tuple[Deck, Deck | None, float]:
        """(deck on top, deck below or None, weight of the top): what to draw at time t."""
        live, other = self.decks[self.live], self.decks[1 - self.live]
        if not live.ready and other.ready:
            return other, None, 1.0  # a source that never read stays off screen
        fade = self.director.fade
        if fade is not None and other.ready:
            return live, other, fade.weight(t)
        return live, None, 1.0

    # -- the loop --

    def run(self) -> int:
        """Present frames until stopped (SIGTERM, the window closed, --frames or --soak done)."""
        previous = signal.signal(signal.SIGTERM, self._on_term)
        wall0 = time.perf_counter()
        frame = 0
        try:
            while not self.stop:
                start = time.perf_counter()
                t = frame * self.fixed_dt if self.fixed_dt is not None else start - wall0
                self.window_events()
                if self.output.window.should_close():
                    break
                self.turn(t, start)
                last = self.frame_limit is not None and frame + 1 >= self.frame_limit
                if last and self.options.soak is not None:
                    self.end = self.sample(frame + 1)  # before a screenshot's buffers
                if last and self.options.screenshot is not None:
                    self.screenshot = self.output.read_screen()
                if self.web is not None and self.web.wants_thumbnail(start):
                    self.thumbnail(start)
                if self.sinks:
                    self.sinks.capture(self.output.ctx, self.output.window.framebuffer_size)
                self.output.swap()
                if self.sinks:
                    self.sinks.hand_over(frame)
                now = time.perf_counter()
                self.presented(now)
                self.clock.presented(now, start)
                if self.moving:
                    self.adaptive.record(1000.0 * (now - start), self.scale, t)
                self.watchdog.presented(now)
                frame += 1
                self.after_frame(frame, now)
                if last:
                    break
                if self.fixed_dt is None and self.max_fps is not None:
                    time.sleep(max(start + 1.0 / self.max_fps - time.perf_counter(), 0.0))
            if self.options.screenshot is not None and self.screenshot is None:
                self.turn(frame * self.fixed_dt if self.fixed_dt else time.perf_counter() - wall0)
                self.screenshot = self.output.read_screen()
            return self.finish(frame, time.perf_counter() - wall0)
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.close()

    def _on_term(self, _signum: int, _frame: FrameType | None) -> None:
        self.stop = True

    def window_events(self) -> None:
        window = self.output.window
        window.poll()
        for event in window.drain():
            if event.kind == "key" and event.value in ("escape", "q") and not window.fullscreen:
                window.close()

    def turn(self, t: float, now: float | None = None) -> None:
        """One frame's work at show time t, up to the drawing (not the swap)."""
        now = time.perf_counter() if now is None else now
        self.t = t
        self.take_edit()
        self.applied = self.commands.drain()
        for command in self.applied:
            self.obey(command, t, now)
        top, below, _ = self.shown(t)
        for deck in (top, below):
            if deck is not None and deck.source is not None:
                deck.source.update(t, now)
        self.director.update(t, self.depth())
        if self.director.reloaded:
            self.director.reloaded = False
            self.apply_edit(t)
        self.sync_decks(t, now)
        top, below, weight = self.shown(t)
        lens = self.director.lens_at(t)
        # Moving (a rack, a fade, a new input frame): a scale that holds --target-fps; still:
        # full resolution.
        frames = tuple(d.source.generation if d and d.source else -1 for d in (top, below))
        self.moving = (lens, frames, weight) != self.last_picture or 0.0 < weight < 1.0
        self.last_picture = (lens, frames, weight)
        self.scale = self.adaptive.scale if self.moving else 1.0
        self.output.draw(top, lens, below, weight, self.scale)

    def thumbnail(self, now: float) -> None:
        """Hand the web remote the picture just drawn, small (before the swap)."""
        from realtime.show.web import THUMBNAIL_WIDTH_PX

        assert self.web is not None
        top, _, _ = self.shown(self.t)
        if top.source is None or top.source.depth is None:
            return
        height, width = top.source.depth.shape[:2]
        pixels = self.output.read_thumbnail((width, height), THUMBNAIL_WIDTH_PX)
        self.web.offer_thumbnail(pixels, now)

    def presented(self, now: float) -> None:
        """A frame is on screen: the commands it applied are done; the web remote hears."""
        for command in self.applied:
            self.latencies_s.append(now - command.received_s)
        if self.web is not None and self.web.wants_state(now, urgent=bool(self.applied)):
            self.web.publish(self.web_state(now), now)
        self.applied = []

    def after_frame(self, frame: int, now: float) -> None:
        """Soak samples and the periodic status line."""
        if self.options.soak is not None and frame == warmup_frames(self.options.soak):
            self.warm = self.sample(frame)
            self.clock.kept = 0  # frame times count from here
        if now - self.status_at >= self.settings.status_interval_s:
            self.status_at = now
            line = self.status_line(now)
            self.info(line)
            self.watchdog.status(line)

    def sample(self, frame: int) -> Sample:
        glfw = self.output.window.glfw
        return Sample(frame, resident_bytes(), gl_objects(glfw.get_proc_address))

    def status_line(self, now: float) -> str:
        d = self.director
        lens = d.lens_at(self.t)
        cue = d.cue
        what = f"cue {d.index + 1}/{len(d.playlist)} ({describe(cue)})" if cue else "no cue yet"
        state = ", paused" if d.paused else ""
        line = (
            f"status: {what}{state}, focus {lens.focus_m:.3g} m, f/{lens.f_number:.2g}, "
            f"source '{d.source}', {self.clock.fps(now):.1f} fps, {self.clock.take_recent()}"
        )
        return "; ".join([line, *self.summaries()])

    def summaries(self) -> list[str]:
        """One line a transport (what it received, ignored, dropped, refused) and a sink
        (frames sent, dropped)."""
        out = []
        if self.osc is not None:
            out.append(self.osc.counts.summary("osc", "not OSC"))
        if self.web is not None:
            out.append(self.web.summary())
        return out + self.sinks.summaries()

    def finish(self, frames: int, elapsed_s: float) -> int:
        composites = sum(deck.composites for deck in self.decks)
        rate = frames / elapsed_s if elapsed_s > 0 else math.nan
        self.info(
            f"stopped after {frames} frames in {elapsed_s:.1f} s ({rate:.1f} fps), "
            f"{composites} composites"
        )
        self.sinks.close()  # what is queued goes out first, and is counted
        for line in self.summaries():
            self.info(line)
        if self.latencies_s:
            self.info(latency_report(self.latencies_s))
        if self.adaptive.frames_at:
            self.info(self.adaptive.report())
        if self.options.screenshot is not None and self.screenshot is not None:
            from realtime.outputs.images import write_png_codes

            write_png_codes(self.options.screenshot, self.screenshot)
        if self.options.soak is not None and self.warm is not None:
            end = self.end or self.sample(frames)
            times = self.clock.frame_times()
            size = self.output.window.framebuffer_size
            for line in soak_report(self.warm, end, times, size, composites):
                print(line, flush=True)
        return 0

    def close(self) -> None:
        self.watchdog.stopping()
        if self.watcher is not None:
            self.watcher.close()
        if self.osc is not None:
            self.osc.close()
        if self.web is not None:
            self.web.close()
        sources = {id(d.source): d.source for d in self.decks if d.source is not None}
        for source in sources.values():
            source.close()
        self.sinks.close()  # its pixel buffer goes before the window's GL context
        self.output.close()


def run_show(options: ShowOptions, config: ShowConfig) -> int:
    """Open the log, the sources, OSC and the window; run the show; the exit code."""
    log = open_log(options.settings(config.settings).log)
    try:
        return Show(options, config, log).run()
    finally:
        close_log(log)
