"""`rackfocus show`: the installation mode, in real windows under Xvfb and over real UDP.

Every show runs in a subprocess through the command line, on a private Xvfb
(started here; without it the window tests fail rather than skip). Scripted
runs use a fixed timestep and --frames, so what they draw is exact; live runs
(wall clock) are driven over OSC on localhost and observed through /status
replies and the log file. The playlist, the config parser and the OSC checks
are tested directly, without a window.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from xvfb_server import xvfb_display

from realtime.errors import InputError
from realtime.focus import dioptre_lerp, pick_depth
from realtime.lens import Lens
from realtime.show.commands import COMMANDS, STATUS_FIELDS, CommandQueue, Limits
from realtime.show.config import DEFAULT_PLAYLIST, load_config
from realtime.show.osc import OscControl
from realtime.show.playlist import (
    Autofocus,
    Director,
    FNumber,
    Hold,
    Pick,
    Program,
    Rack,
    Switch,
    subject_depths,
)
from realtime.show.soak import percentile, warmup_frames
from realtime.sources.images import linear_to_srgb, load_color

ROOT = Path(__file__).resolve().parent.parent
W, H = 160, 120  # test image size
SCREEN = (1280, 720)  # the Xvfb screen
NEAR_M, MID_M, FAR_M = 1.0, 2.5, 6.0  # depths of the test scene's regions
LENS = Lens(focus_m=MID_M, f_number=1.4)  # the lens of the drawn comparisons
RUN_TIMEOUT_S = 60  # one show subprocess
WAIT_S = 10.0  # longest wait for a live show to do something
STATUS_WAIT_S = 1.0  # a /status request not answered in this long is asked again
STATUS = tuple(name for name, _, _ in STATUS_FIELDS)  # what /status replies


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb server for the module; its DISPLAY string (e.g. ':3')."""
    with xvfb_display(SCREEN) as name:
        yield name


def scene_pair(flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A textured plane at FAR_M, a near band, a box at MID_M (mirrored and recoloured: B)."""
    yy, xx = np.mgrid[0:H, 0:W]
    color = np.zeros((H, W, 3), np.float32)
    color[..., 0] = (xx % 16 < 8) * 0.8 + 0.1
    color[..., 1] = (yy % 16 < 8) * 0.6 + 0.1
    color[..., 2] = ((xx + yy) % 32 < 16) * 0.5 + 0.02
    depth = np.full((H, W), FAR_M, np.float32)
    depth[:, :60] = NEAR_M
    depth[40:80, 60:110] = MID_M
    if flip:
        return np.ascontiguousarray(color[:, ::-1, ::-1]), np.ascontiguousarray(depth[:, ::-1])
    return color, depth


@dataclass(frozen=True)
class Scenes:
    """Two still sources as .npy files, and the folder they are in."""

    folder: Path
    a: tuple[np.ndarray, np.ndarray]
    b: tuple[np.ndarray, np.ndarray]

    def source(self, name: str) -> str:
        return f'[[source]]\nname = "{name}"\nrgb = "{name}_c.npy"\ndepth = "{name}_d.npy"\n'

    @property
    def args(self) -> list[str]:
        return ["--rgb", str(self.folder / "a_c.npy"), "--depth", str(self.folder / "a_d.npy")]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Scenes:
    folder = tmp_path_factory.mktemp("show")
    pairs = {"a": scene_pair(), "b": scene_pair(flip=True)}
    for name, (color, depth) in pairs.items():
        np.save(folder / f"{name}_c.npy", color)
        np.save(folder / f"{name}_d.npy", depth)
    return Scenes(folder, pairs["a"], pairs["b"])


def config(folder: Path, body: str, name: str = "show.toml") -> Path:
    path = folder / name
    path.write_text(body)
    return path


def env_for(display: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env = {k: v for k, v in env.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if display is not None:
        env["DISPLAY"] = display
    return env | (extra or {})


def show(display: str | None, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `rackfocus show ARGS` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "realtime", "show", *args],
        capture_output=True,
        text=True,
        env=env_for(display),
        cwd=ROOT,
        timeout=RUN_TIMEOUT_S,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def encode(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> 8-bit sRGB codes, as the display pass does."""
    return np.rint(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255).astype(np.int16)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def osc(address: str, *args: Any) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class Client:
    """An OSC client on localhost that collects /status replies on its own port."""

    def __init__(self, port: int, listen_port: int = 0) -> None:
        self.target = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.settimeout(0.05)
        self.sent = 0  # datagrams sent

    def send(self, address: str, *args: Any) -> None:
        self.raw(osc(address, *args))

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)
        self.sent += 1

    def status(self, timeout: float = WAIT_S, attempt: float = STATUS_WAIT_S) -> dict[str, Any]:
        """Ask /status until every reply arrived (a request or reply may be lost).

        Replies that arrive late, to an earlier request, are dropped before asking.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            self.send("/status")
            replies: dict[str, Any] = {}
            until = time.monotonic() + attempt
            while time.monotonic() < until and len(replies) < len(STATUS):
                try:
                    data, _ = self.sock.recvfrom(65536)
                except TimeoutError:
                    continue
                message = OscMessage(data)
                replies[message.address.removeprefix("/status/")] = message.params[0]
            if len(replies) == len(STATUS):
                return replies
        raise AssertionError("no /status reply")

    def ready(self) -> dict[str, Any]:
        """Wait for the show to answer, then the answer to one clean request."""
        self.status()
        time.sleep(STATUS_WAIT_S)  # requests it got while starting are all answered by now
        return self.status()

    def drain(self) -> None:
        """Drop whatever replies are waiting."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(65536)
        except BlockingIOError:
            pass
        finally:
            self.sock.settimeout(0.05)

    def wait(self, ok: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """/status until `ok` holds."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            status = self.status()
            if ok(status):
                return status
            time.sleep(0.05)
        raise AssertionError(f"status never showed {what}: {status}")

    def close(self) -> None:
        self.sock.close()


class Live:
    """A show running on the wall clock in a subprocess; stopped with SIGTERM."""

    def __init__(
        self, display: str, args: list[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "realtime", "show", *args, "--log", str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_for(display, env),
            cwd=ROOT,
        )

    def lines(self) -> list[str]:
        """The log's messages so far (without time stamps and levels)."""
        if not self.log.exists():
            return []
        return [line.split(" ", 3)[3] for line in self.log.read_text().splitlines()]

    def stamps(self) -> list[float]:
        """The log lines' time stamps, seconds."""
        return [
            datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            for line in self.log.read_text().splitlines()
        ]

    def wait_log(self, pattern: str, after: int = 0) -> int:
        """Index of the first log line at or after `after` that matches `pattern`."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines()[after:], start=after):
                if re.search(pattern, line):
                    return i
            assert self.proc.poll() is None, self.proc.communicate()[1]
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r}: {self.lines()}")

    def stop(self) -> tuple[int, str]:
        """SIGTERM; (exit code, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=RUN_TIMEOUT_S)
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def live() -> Iterator[Callable[..., Live]]:
    """Start live shows; any still running at the end of the test is killed."""
    started: list[Live] = []

    def start(*args: Any, **kw: Any) -> Live:
        started.append(Live(*args, **kw))
        return started[-1]

    yield start
    for show_ in started:
        show_.kill()


# --- Config, without a window ----------------------------------------------------------------


def test_config_reads_every_section_and_kind_of_cue(scenes: Scenes) -> None:
    path = config(
        scenes.folder,
        '[show]\nmonitor = "HDMI-1"\nosc_port = 9000\nfade = 0.5\nlog = "show.log"\n'
        "[lens]\nf_number = 2.8\nfocus_m = 3.0\n"
        + scenes.source("a")
        + "depth_scale = 0.001\nfps = 12\n"
        + scenes.source("b")
        + '[[cue]]\nrack = 1.2\nduration = 1.5\neasing = "linear"\n'
        '[[cue]]\nrack = "near"\n'
        "[[cue]]\npick = [0.25, 0.5]\n"
        "[[cue]]\nhold = 3\n"
        "[[cue]]\nautofocus = 8.0\ntime_constant = 0.5\n"
        "[[cue]]\nf_number = 4\n"
        '[[cue]]\nsource = "b"\nduration = 0\n',
    )
    c = load_config(path, Lens(focal_length_mm=35.0))
    assert c.settings.monitor == "HDMI-1" and c.settings.osc_port == 9000
    assert c.settings.fade_s == 0.5 and c.settings.log == scenes.folder / "show.log"
    assert c.lens == Lens(focal_length_mm=35.0, f_number=2.8, focus_m=3.0) and c.focus_m == 3.0
    assert c.source_names == ("a", "b")
    assert c.source("a").convention.scale == 0.001 and c.source("a").fps == 12.0
    assert c.playlist == (
        Rack(1.2, 1.5, "linear"),
        Rack("near"),
        Pick(0.25, 0.5),
        Hold(3.0),
        Autofocus(8.0, 0.5),
        FNumber(4.0),
        Switch("b", 0.0),
    )
    bare = load_config(config(scenes.folder, scenes.source("a"), "bare.toml"), Lens())
    assert bare.playlist == DEFAULT_PLAYLIST and bare.focus_m is None
    example = load_config(ROOT / "examples" / "show.toml", Lens())
    assert len(example.sources) == 2 and len(example.playlist) >= 6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[cue]]\nhold = 0\n", r"show\.toml:6: \[\[cue\]\] #1 key 'hold': must be positive"),
        ("[[cue]]\nrack = 1\nhold = 2\n", r":7: \[\[cue\]\] #1 key 'hold': 'rack' is already"),
        ('[[cue]]\nrack = "middle"\n', r":6: \[\[cue\]\] #1 key 'rack': expected metres"),
        ("[[cue]]\nrack = 0.01\n", r":6: .*'rack': focus distance 0.01 m must be beyond"),
        ("[[cue]]\npick = [0.5, 2]\n", r":6: .*'pick': x and y must be in 0\.\.1"),
        ('[[cue]]\nsource = "c"\n', r":6: .*'source': no \[\[source\]\] named 'c'"),
        ("[[cue]]\nhold = 1\neasing = 'x'\n", r":7: .*'easing': a hold cue takes no easing"),
        ("[[cue]]\nrack = 2\neasing = 'x'\n", r":7: .*'easing': unknown easing 'x'"),
        ("[[cue]]\nduration = 2\n", r":5: \[\[cue\]\] #1: needs one of rack, pick"),
        ("[show]\nosc_port = 70000\n", r":6: \[show\] key 'osc_port': must be in 0\.\.65535"),
        ("[show]\nwindowed = 1\n", r":6: \[show\] key 'windowed': expected true or false"),
        ("[lens]\nf_number = -2\n", r":6: \[lens\] key 'f_number': f-number must be positive"),
        ("[cues]\n", r":5: \[cues\]: unknown section"),
        (
            '[[source]]\nname = "a"\nrgb = "a_c.npy"\ndepth = "a_d.npy"\n',
            r":6: \[\[source\]\] #2 key 'name': a source named 'a' is already defined",
        ),
        ("[[cue]]\nhold = 1\n[[cue]]\nhold = 'long'\n", r":8: \[\[cue\]\] #2 key 'hold'"),
    ],
)
def test_config_errors_name_the_file_line_and_key(scenes: Scenes, body: str, message: str) -> None:
    path = config(scenes.folder, scenes.source("a") + body, "bad.toml")
    with pytest.raises(InputError, match=message.replace("show\\.toml", "bad\\.toml")):
        load_config(path, Lens())


def test_config_source_must_name_existing_inputs(scenes: Scenes) -> None:
    path = config(scenes.folder, '[[source]]\nname = "a"\nrgb = "none.png"\ndepth = "a_d.npy"\n')
    with pytest.raises(InputError, match=r"show\.toml:3: \[\[source\]\] #1 key 'rgb': "):
        load_config(path, Lens())
    with pytest.raises(InputError, match=r"\[\[source\]\]: missing"):
        load_config(config(scenes.folder, "[lens]\n"), Lens())


# --- Playlist timing, without a window --------------------------------------------------------


def test_playlist_starts_cues_on_exact_boundaries_and_loops(scenes: Scenes) -> None:
    depth = scenes.a[1]
    playlist = (Rack(1.0, 1.0, "linear"), Hold(0.5), FNumber(4.0, 1.0, "linear"), Switch("b", 0.5))
    log: list[str] = []
    d = Director(Program(playlist, Lens(focus_m=4.0, f_number=2.0)), "a", 0.0, log.append)
    d.update(0.0, depth)
    assert d.index == 0 and d.cue_end_s == 1.0
    assert d.lens_at(0.5).focus_m == pytest.approx(dioptre_lerp(4.0, 1.0, 0.5))  # dioptres
    d.update(2.7, depth)  # one late frame: cues 2, 3 and 4 started at 1.0, 1.5 and 2.5
    assert [line.split(":")[0] for line in log] == ["cue 1/4", "cue 2/4", "cue 3/4", "cue 4/4"]
    assert d.index == 3 and d.cue_end_s == 3.0
    assert d.lens_at(2.7) == Lens(focus_m=1.0, f_number=4.0)  # the f-number move ended at 2.5
    assert d.source == "b" and d.fade is not None and d.fade.weight(2.75) == pytest.approx(0.5)
    d.update(3.0, depth)  # the loop: cue 1 again, the fade over
    assert d.index == 0 and d.cue_end_s == 4.0 and d.fade is None
    assert log[-1] == "cue 1/4: rack to 1 m over 1 s (linear)"
    for k in range(1, 100):  # frames of an odd length: the boundaries stay where they were
        d.update(3.0 + k * 0.37, depth)
        assert d.cue_end_s in {3.0 * n + off for n in range(20) for off in (1.0, 1.5, 2.5, 3.0)}
    end = 3.0 + 99 * 0.37
    starts = [3 * n + off for n in range(20) for off in (0.0, 1.0, 1.5, 2.5)]
    assert len(log) == sum(s <= end for s in starts)  # every cue started once, none skipped


def test_pause_resume_and_manual_commands(scenes: Scenes) -> None:
    depth = scenes.a[1]
    program = Program((Rack(1.0, 2.0, "linear"), Hold(1.0)), Lens(focus_m=4.0), 0.5)
    d = Director(program, "a", 0.0)
    d.update(0.0, depth)
    d.pause(1.0)  # half-way through the rack
    half = dioptre_lerp(4.0, 1.0, 0.5)
    d.update(5.0, depth)
    assert d.paused and d.index == 0 and d.lens_at(5.0).focus_m == pytest.approx(half)
    d.resume(5.0)  # the rack finishes in the 1 s it had left, from where it stopped
    assert d.lens_at(5.5).focus_m == pytest.approx(dioptre_lerp(half, 1.0, 0.5))
    d.update(6.0, depth)
    assert d.index == 1 and d.lens_at(6.0).focus_m == pytest.approx(1.0)
    d.rack_to(3.0, 0.5, 6.2)  # manual: out of the playlist
    d.update(10.0, depth)
    assert d.paused and d.index == 1 and d.lens_at(10.0).focus_m == 3.0
    d.set_f_number(5.6, 10.0)
    assert d.lens_at(10.0) == Lens(focus_m=3.0, f_number=5.6)
    d.pick(20 / W, 60 / H, 11.0, depth)  # on the near band; racks over 0.5 s
    assert d.lens_at(11.5).focus_m == pick_depth(depth, 20, 60) == NEAR_M
    d.go(0, 12.0, depth)  # back in the playlist, from cue 1, f-number kept
    assert not d.paused and d.index == 0 and d.lens_at(14.0) == Lens(focus_m=1.0, f_number=5.6)
    d.next(14.5, depth)
    assert d.index == 1 and d.cue_end_s == 15.5


def test_an_edited_playlist_takes_over_at_the_next_cue_boundary(scenes: Scenes) -> None:
    depth = scenes.a[1]
    d = Director(Program((Hold(1.0), Hold(1.0)), Lens(focus_m=2.0)), "a", 0.0)
    d.update(0.0, depth)
    d.pending = Program((Rack(5.0, 0.5), Rack(3.0, 0.5, "linear"), Hold(1.0)), Lens(focus_m=9.0))
    d.update(0.99, depth)
    assert not d.reloaded and len(d.playlist) == 2
    d.update(1.0, depth)  # the boundary: the new playlist, from the position after cue 1
    assert d.reloaded and len(d.playlist) == 3 and d.index == 1
    assert d.lens_at(1.0).focus_m == 2.0 and d.lens_at(1.5).focus_m == pytest.approx(3.0)


def test_autofocus_follows_the_nearest_subject_without_hunting() -> None:
    rng = np.random.default_rng(7)
    d = Director(Program((Autofocus(4.0),), Lens(focus_m=FAR_M)), "a", 0.0)
    dioptres = []
    for k in range(150):  # 30 fps, a noisy sensor: every frame's depth differs by ~1%
        depth = np.full((H, W), FAR_M, np.float32)
        depth[:, :60] = 1.5 if k < 60 else 1.2  # the subject steps closer at 2 s
        depth *= 1.0 + 0.01 * rng.standard_normal((H, W)).astype(np.float32)
        d.update(k / 30, depth)
        dioptres.append(1.0 / d.lens_at(k / 30).focus_m)
    steps = np.diff(dioptres)
    assert np.all(steps >= 0.0)  # only ever towards the subject: no overshoot, no hunting
    near = subject_depths(depth)[0]
    assert dioptres[-1] == pytest.approx(1.0 / near, abs=0.02)
    assert np.all(steps[45:59] < 1e-3)  # settled on the first distance while the noise goes on
    assert len(set(dioptres[-15:])) == 1  # settled: the lens stops changing, the passes rest


def test_named_subjects_and_fades() -> None:
    near, far = subject_depths(scene_pair()[1])
    assert (near, far) == (NEAR_M, FAR_M)
    d = Director(Program((Hold(1.0),), Lens(), fade_s=2.0), "a", 0.0)
    d.switch("b", 1.0)
    assert d.fade is not None and d.fade.weight(2.0) == 0.5 and d.source == "b"
    d.switch("b", 1.5)  # already there: nothing
    assert d.fade.start_s == 1.0
    d.switch("a", 1.5, fade_s=0.0)  # a cut
    assert d.fade is None and d.source == "a"
    with pytest.raises(InputError):
        subject_depths(np.zeros((4, 4)))


# --- OSC checks, without a network -----------------------------------------------------------


def test_osc_checks_queue_good_commands_and_count_everything_else() -> None:
    queue = CommandQueue(64)
    control = OscControl(queue)
    queue.limits = Limits(min_focus_m=0.0505, cues=3, sources=("a", "b"))
    sender = ("127.0.0.1", 9)
    good = [
        osc("/focus/distance", 2.5),
        osc("/focus/distance", 3),  # an integer where a float is expected
        osc("/focus/rack", 1.5, 2.0),
        osc("/focus/pick", 0.25, 1.0),
        osc("/lens/fnumber", 4.0),
        osc("/cue/go", 3),
        osc("/cue/go", 2.0),  # TouchDesigner's float
        osc("/cue/next"),
        osc("/cue/next", 1.0),
        osc("/show/pause", 1),
        osc("/show/pause", False),
        osc("/show/source", "b"),
        osc("/status"),
    ]
    for data in good:
        control.handle_packet(data, sender)
    commands = queue.drain()
    assert [c.args for c in commands] == [
        (2.5,), (3.0,), (1.5, 2.0), (0.25, 1.0), (4.0,), (3,), (2,), (), (), (1,), (0,), ("b",), (),
    ]  # fmt: skip
    assert all(c.reply is not None for c in commands)
    control.handle_packet(osc("/cue/next", 0.0), sender)  # a button's release: nothing to do
    assert queue.drain() == [] and control.counts.accepted == len(good) + 1
    wrong = [
        osc("/focus/distance", "near"),
        osc("/focus/distance"),
        osc("/focus/rack", 1.5),
        osc("/focus/distance", True),
        osc("/cue/go", 1.5),
        osc("/show/source", 2),
        osc("/status", "now"),
    ]
    out = [
        osc("/focus/distance", 0.01),  # inside the focal length
        osc("/focus/distance", 1e6),
        osc("/focus/distance", float("nan")),
        osc("/focus/rack", 2.0, -1.0),
        osc("/focus/pick", 1.5, 0.5),
        osc("/lens/fnumber", 100.0),
        osc("/cue/go", 4),
        osc("/cue/go", 0),
        osc("/show/pause", 2),
        osc("/show/source", "c"),
    ]
    junk = [b"hello", b"", bytes(range(256)), b"#bundle\x00garbage", b"/x\x00\x00,f"]
    unknown = [osc("/focus"), osc("/Focus/Distance", 2.0), osc("/show/quit")]
    for data in wrong + out + junk + unknown:
        control.handle_packet(data, sender)
    c = control.counts
    assert (c.wrong_type, c.out_of_range, c.malformed, c.unknown) == (7, 10, 5, 3)
    assert c.received == c.accepted + c.ignored + c.dropped
    bundle = OscBundleBuilder(IMMEDIATELY)  # each message of a bundle counts
    for address, value in (("/focus/distance", 2.0), ("/nowhere", 1.0)):
        message = OscMessageBuilder(address)
        message.add_arg(value)
        bundle.add_content(message.build())
    control.handle_packet(bundle.build().dgram, sender)
    assert len(queue.drain()) == 1 and c.unknown == 4


def test_a_full_queue_drops_the_oldest_and_counts() -> None:
    queue = CommandQueue(5)
    control = OscControl(queue)
    queue.limits = Limits(0.05, 1, ("a",))
    for i in range(1000):
        control.handle_packet(osc("/focus/distance", 1.0 + i), ("127.0.0.1", 9))
    assert control.counts.dropped == 995 and control.counts.accepted == 1000
    assert [c.args[0] for c in queue.drain()] == [996.0, 997.0, 998.0, 999.0, 1000.0]  # newest


def test_soak_statistics() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0], 100) == 2.0 and math.isnan(percentile([], 50))
    assert warmup_frames(3000) == 300 and warmup_frames(150) == 75 and warmup_frames(1) == 1


def test_docs_osc_table_lists_every_osc_address() -> None:
    """docs/show.md's OSC table is generated at build time (docs_hooks.py) from COMMANDS."""
    page = (ROOT / "docs" / "show.md").read_text()
    section = page[page.index("## OSC") :]
    assert "<!-- generated: osc-table -->" in section[: section.index("\n## ", 1)]
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    table = hooks.expand(section)
    for command in COMMANDS:
        assert f"| `{command.path}` |" in table, command.path


# --- Real windows: scripted -------------------------------------------------------------------


def test_playlist_loops_with_a_cross_fade_between_two_sources(
    display: str, scenes: Scenes, compositor, tmp_path: Path
) -> None:
    path = config(
        scenes.folder,
        "[lens]\nfocus_m = 2.5\nf_number = 1.4\n"
        + scenes.source("a")
        + scenes.source("b")
        + '[[cue]]\nhold = 0.2\n[[cue]]\nsource = "b"\nduration = 0.4\n'
        + '[[cue]]\nhold = 0.2\n[[cue]]\nsource = "a"\nduration = 0.4\n',
        "fade.toml",
    )
    a = encode(compositor.render(*scenes.a, LENS))
    b = encode(compositor.render(*scenes.b, LENS))
    assert np.abs(a - b).max() > 100  # the sources differ clearly
    shot = tmp_path / "fade.png"
    # 0.05 s a frame; frame 32 is at t = 1.6 s: the second time round, half-way from a to b
    steps = ["--windowed", "--fixed-dt", "0.05", "--screenshot", str(shot)]
    result = ok(show(display, ["--config", str(path), *steps, "--frames", "33"]))
    window = iio.imread(shot).astype(np.int16)
    assert window.shape == (H, W, 3)
    assert np.abs(window - (a + b) / 2).max() <= 2  # 8-bit blending: a code or two
    cues = re.findall(r"cue (\d)/4", result.stderr)
    assert cues == ["1", "2", "3", "4", "1", "2"]
    # a quarter of the way back from b to a (t = 0.9 s)
    ok(show(display, ["--config", str(path), *steps, "--frames", "19"]))
    window = iio.imread(shot).astype(np.int16)
    assert np.abs(window - (0.75 * b + 0.25 * a)).max() <= 2


def test_fullscreen_soak_reports_flat_memory_and_no_leaked_gl_objects(
    display: str, scenes: Scenes, tmp_path: Path
) -> None:
    shot = tmp_path / "full.png"
    result = ok(show(display, [*scenes.args, "--soak", "240", "--screenshot", str(shot)]))
    assert iio.imread(shot).shape == (SCREEN[1], SCREEN[0], 3)  # the whole monitor
    out = result.stdout
    assert "soak: 240 frames at 1280x720, 100 of them warm-up" in out
    composites = int(re.search(r"(\d+) composites", out).group(1))  # type: ignore[union-attr]
    assert composites > 80  # the default playlist racks half the time
    gl = re.search(r"GL objects alive: (\d+) after warm-up, (\d+) at the end", out)
    assert gl is not None and gl.group(1) == gl.group(2) and int(gl.group(1)) > 0
    assert "target unchanged: ok" in out and "target within 5%: ok" in out
    assert re.search(r"frame time after warm-up: p50 [\d.]+ ms, p90 [\d.]+ ms", out)


def test_bad_config_or_options_exit_2_with_one_line(
    display: str, scenes: Scenes, tmp_path: Path
) -> None:
    broken = config(tmp_path, scenes.source("a") + "[[cue]]\nhold = -1\n")
    (tmp_path / "a_c.npy").write_bytes((scenes.folder / "a_c.npy").read_bytes())
    (tmp_path / "a_d.npy").write_bytes((scenes.folder / "a_d.npy").read_bytes())
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    cases: list[tuple[str | None, list[str], str]] = [
        (None, ["--config", str(tmp_path / "none.toml")], "cannot read show config"),
        (None, ["--config", str(broken)], r"show\.toml:6: \[\[cue\]\] #1 key 'hold'"),
        (None, ["--config", str(broken), *scenes.args], "not both"),
        (None, ["--windowed"], r"--config FILE, or --rgb PATH and --depth PATH \(or --source\)"),
        (None, [*scenes.args, "--osc-port", "70000"], "must be a UDP port"),
        (None, [*scenes.args, "--soak", "0"], "must be at least 1"),
        (None, [*scenes.args, "--osc-port", "x"], "invalid int value"),
        (None, ["--rgb", "none.png", "--depth", "none.png"], "none.png"),
        (
            None,
            [*scenes.args, "--osc-host", "127.0.0.1", "--osc-port", str(busy.getsockname()[1])],
            "cannot listen on UDP",
        ),
        (None, [*scenes.args, "--windowed", "--frames", "1"], "no display"),
        (display, [*scenes.args, "--monitor", "nosuch", "--frames", "1"], "no such monitor"),
    ]
    try:
        for where, args, message in cases:
            result = show(where, args)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.count("\n") == 1, result.stderr
            assert re.search(message, result.stderr), result.stderr
    finally:
        busy.close()


# --- Real windows: live, over OSC ------------------------------------------------------------


def test_every_osc_address_is_obeyed_and_status_answers(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    port = free_port()
    path = config(
        scenes.folder,
        f'[show]\nosc_host = "127.0.0.1"\nosc_port = {port}\nrack_duration = 0.2\nfade = 0.2\n'
        "[lens]\nfocus_m = 2.5\nf_number = 2.0\n"
        + scenes.source("a")
        + scenes.source("b")
        + "[[cue]]\nhold = 100\n[[cue]]\nrack = 4.0\nduration = 0.2\n[[cue]]\nhold = 100\n",
        "osc.toml",
    )
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # stands in for systemd
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(0.1)
    messages: list[str] = []
    listening = True

    def listen() -> None:
        while listening:
            try:
                messages.append(notify.recv(256).decode())
            except TimeoutError:
                pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log", env)
    client = Client(port)
    try:
        s = client.ready()
        lost = client.sent - s["received"]  # requests sent before the show listened
        assert (s["focus"], s["fnumber"], s["cue"], s["source"], s["paused"]) == (2.5, 2, 1, "a", 0)
        client.send("/focus/distance", 3.25)
        s = client.wait(lambda s: s["focus"] == 3.25, "focus 3.25")
        assert s["paused"] == 1  # a manual command leaves the playlist
        client.send("/lens/fnumber", 2.8)
        client.wait(lambda s: s["fnumber"] == pytest.approx(2.8), "f/2.8")
        client.send("/focus/rack", 1.5, 0.3)
        client.wait(lambda s: s["focus"] == 1.5, "a rack to 1.5 m")
        client.send("/focus/pick", 0.125, 0.5)  # on the near band
        client.wait(lambda s: s["focus"] == NEAR_M, "the picked depth")
        client.send("/cue/go", 2)  # a rack to 4 m over 0.2 s, then a hold
        s = client.wait(lambda s: s["cue"] == 2 or s["cue"] == 3, "cue 2")
        assert s["paused"] == 0
        client.wait(lambda s: s["focus"] == 4.0 and s["cue"] == 3, "cue 2's rack done")
        client.send("/cue/next")
        client.wait(lambda s: s["cue"] == 1, "the playlist wrapped to cue 1")
        client.send("/show/pause", 1)
        client.wait(lambda s: s["paused"] == 1, "paused")
        client.send("/show/pause", 0)
        client.wait(lambda s: s["paused"] == 0, "resumed")
        client.send("/show/source", "b")
        s = client.wait(lambda s: s["source"] == "b", "source b")
        assert s["fps"] > 0 and s["ignored"] == 0 and s["dropped"] == 0
        assert s["received"] == client.sent - lost  # every datagram reached the show
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    lines = running.lines()
    assert "cue 2/3: rack to 4 m over 0.2 s (smoothstep)" in lines
    assert any(line.startswith("stopped after") for line in lines)
    listening = False
    listener.join()
    notify.close()
    assert messages[0] == "READY=1" and messages[-1] == "STOPPING=1"
    assert messages.count("WATCHDOG=1") >= 3  # every 0.1 s (half of WatchdogSec) while presenting


def test_malformed_input_and_floods_are_counted_and_never_stall_the_show(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    port, reply = free_port(), free_port()
    args = [*scenes.args, "--windowed", "--focus", "2.5", "--osc-host", "127.0.0.1"]
    args += ["--osc-port", str(port), "--osc-reply-port", str(reply)]
    running = live(display, args, tmp_path / "show.log")
    client = Client(port, listen_port=reply)  # replies go to --osc-reply-port
    try:
        client.ready()
        junk = [b"not osc at all", b"", bytes(range(200)), b"#bundle\x00\x00\x00\x00"]
        wrong = [osc("/focus/distance", "far"), osc("/focus/rack", 2.0), osc("/cue/go", 0.5)]
        out = [osc("/focus/distance", -2.0), osc("/lens/fnumber", 1000.0), osc("/cue/go", 99)]
        out += [osc("/show/source", "nowhere"), osc("/focus/pick", 2.0, 2.0)]
        unknown = [osc("/focus/distancex", 2.0), osc("/lights/on"), osc("/", 1)]
        bursts = 50  # 50 x 15 = 750 ignored messages, paced so the kernel keeps them all
        for _ in range(bursts):
            for data in junk + wrong + out + unknown:
                client.raw(data)
            client.status()  # answered only after the show handled everything before it
        flood = 3000  # then a flood of good commands, as fast as a socket sends them
        for i in range(flood):
            client.send("/focus/distance", 1.0 + (i % 50) / 10)
        s = client.status()  # answered: the flood is through (the kernel may have dropped some)
        assert s["focus"] in {np.float32(1.0 + i / 10) for i in range(50)}
        client.send("/focus/distance", 3.25)
        client.send("/lens/fnumber", 2.8)
        s = client.wait(lambda s: s["focus"] == 3.25 and s["fnumber"] == pytest.approx(2.8), "")
        assert s["fps"] > 0
        ignored = bursts * (len(junk) + len(wrong) + len(out) + len(unknown))
        assert s["ignored"] == ignored
        assert s["received"] <= client.sent  # the kernel may drop some of the flood
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    summary = next(line for line in running.lines() if line.startswith("osc:"))
    m = re.match(
        r"osc: (\d+) received, (\d+) accepted, (\d+) ignored \((\d+) not OSC, (\d+) wrong types, "
        r"(\d+) out of range, (\d+) unknown addresses\), (\d+) dropped",
        summary,
    )
    assert m is not None, summary
    received, accepted, total, junk_n, wrong_n, out_n, unknown_n, dropped = map(int, m.groups())
    assert (junk_n, wrong_n, out_n, unknown_n) == (
        bursts * len(junk),
        bursts * len(wrong),
        bursts * len(out),
        bursts * len(unknown),
    )
    assert received == accepted + total and dropped <= accepted
    assert accepted >= bursts + 2  # every paced /status and the last two commands


def test_config_edits_apply_at_the_next_cue_boundary_and_broken_ones_are_rejected(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    folder = tmp_path / "edit"
    folder.mkdir()
    for name in ("a_c.npy", "a_d.npy"):
        shutil.copy(scenes.folder / name, folder / name)
    port = free_port()
    head = f'[show]\nosc_host = "127.0.0.1"\nosc_port = {port}\n' + scenes.source("a")
    path = config(folder, head + "[[cue]]\nhold = 1.5\n[[cue]]\nrack = 1.5\nduration = 0.2\n")

    def edit(text: str) -> None:  # as editors save: a new file renamed over the old
        (folder / "new.tmp").write_text(text)
        os.replace(folder / "new.tmp", path)

    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log")
    client = Client(port)
    try:
        client.status()
        start = running.wait_log(r"^cue 1/2: hold 1.5 s", running.wait_log(r"^cue 2/2"))
        edit(head + "[[cue]]\nhold = 1.5\n[[cue]]\nrack = 3.0\nduration = 0.2\n")
        accepted = running.wait_log(r"^config edit accepted", start)
        applied = running.wait_log(r"^config applied at the cue boundary", accepted)
        lines = running.lines()
        assert lines[applied + 1] == "cue 2/2: rack to 3 m over 0.2 s (smoothstep)"
        assert not any(line.startswith("cue") for line in lines[start + 1 : applied])
        stamps = running.stamps()
        assert stamps[applied] - stamps[start] == pytest.approx(1.5, abs=0.25)  # a full hold
        client.wait(lambda s: s["focus"] == 3.0, "the edited rack")
        edit(head + '[[cue]]\nhold = 1.5\n[[cue]]\nrack = "nowhere"\nduration = 0.2\n')
        rejected = running.wait_log(r"^config edit rejected", applied)
        after = running.wait_log(r"^cue 2/2", rejected)  # still running the last good config
        assert running.lines()[after] == "cue 2/2: rack to 3 m over 0.2 s (smoothstep)"
        assert re.fullmatch(
            r"config edit rejected, the last good config stays: "
            r".*show\.toml:11: \[\[cue\]\] #2 key 'rack': expected metres, 'near' or 'far'",
            running.lines()[rejected],
        )
        assert sum("rejected" in line for line in running.lines()) == 1
        assert client.status()["fps"] > 0
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err


def test_an_input_removed_mid_show_keeps_its_last_frame_on_screen(
    display: str, compositor, tmp_path: Path, live: Callable[..., Live]
) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    frames = []
    for i in range(3):
        color, depth = scene_pair(flip=i == 1)
        color = color * (0.5 + 0.25 * i)
        png = folder / f"rgb_{i:04d}.png"
        iio.imwrite(png, encode(color).astype(np.uint8))
        np.save(folder / f"depth_{i:04d}.npy", depth)
        frames.append(encode(compositor.render(load_color(png), depth, LENS)))
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    port = free_port()
    path = config(
        tmp_path,
        f'[show]\nosc_host = "127.0.0.1"\nosc_port = {port}\n[lens]\nfocus_m = 2.5\n'
        'f_number = 1.4\n[[source]]\nname = "seq"\nrgb = "seq/rgb_%04d.png"\n'
        'depth = "seq/depth_%04d.npy"\nfps = 10\n[[cue]]\nhold = 100\n',
    )
    shot = tmp_path / "last.png"
    args = ["--config", str(path), "--windowed", "--screenshot", str(shot)]
    running = live(display, args, tmp_path / "show.log")
    client = Client(port)
    try:
        client.status()
        time.sleep(0.3)  # a few frames of the sequence go by
        for name in saved:
            (folder / name).unlink()
        running.wait_log(r"^source 'seq' failed: .*; showing its last good frame")
        time.sleep(1.2)  # retries, once a second, while frames keep being presented
        s = client.status()
        assert s["fps"] > 0 and s["source"] == "seq"
        lines = running.lines()
        assert sum("failed" in line for line in lines) == 1  # one line, not one a frame
        assert sum("still failing" in line for line in lines) <= 1
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    window = iio.imread(shot).astype(np.int16)
    assert min(np.abs(window - f).max() for f in frames) <= 1  # a good frame, not black
    # and back: the files return, the source recovers
    for name, data in saved.items():
        (folder / name).write_bytes(data)
    running = live(display, args, tmp_path / "again.log")
    client = Client(port)
    try:
        client.status()
        for name in saved:
            (folder / name).unlink()
        running.wait_log(r"^source 'seq' failed")
        for name, data in saved.items():
            (folder / name).write_bytes(data)
        running.wait_log(r"^source 'seq' recovered")
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err


def test_status_round_trip_helpers_handle_a_missing_show() -> None:
    client = Client(free_port())
    try:
        with pytest.raises(AssertionError, match="no /status reply"):
            client.status(timeout=0.3, attempt=0.1)
    finally:
        client.close()


def test_a_show_plays_a_synthetic_sensor_source_and_a_config_may_name_one(
    display: str, tmp_path: Path
) -> None:
    """--source (and `source = ...` in a [[source]] table) as render and preview take it: a
    synthetic scene through the RealSense sensor model, its depth conditioned by default."""
    shot = tmp_path / "synthetic.png"
    steps = ["--windowed", "--fixed-dt", "0.05", "--frames", "6", "--screenshot", str(shot)]
    args = ["--source", "synthetic:demo", "--sensor-noise", "realsense", "--focus", "2"]
    ok(show(display, [*args, *steps]))
    window = iio.imread(shot)
    assert window.shape == (90, 160, 3) and window.std() > 10  # the scene, not a black frame
    path = config(
        tmp_path,
        '[[source]]\nname = "scene"\nsource = "synthetic:demo"\nsensor_noise = "realsense"\n'
        "size = [160, 90]\n[[cue]]\nhold = 0.2\n",
    )
    ok(show(display, ["--config", str(path), *steps]))
    other = iio.imread(shot).astype(np.float64)  # the same scene (its own playlist's focus)
    assert other.shape == window.shape and np.abs(other - window).mean() < 8
    bad = config(tmp_path, '[[source]]\nname = "x"\nsource = "synthetic:nowhere"\n', "bad.toml")
    result = show(display, ["--config", str(bad), *steps])
    assert result.returncode == 2 and "bad.toml:3: [[source]] #1 key 'source'" in result.stderr


def test_a_deck_keeps_its_loop_when_the_depth_is_smaller_than_the_colour(compositor) -> None:  # type: ignore[no-untyped-def]
    """A show source whose depth is a quarter of its colour's size (a phone's, upsampled on
    the GPU): the deck keeps one frame loop from frame to frame (the loop's depth is the
    upsampled one, the source's the small one: sizes are compared on the colour), and the
    chain runs once for a still picture."""
    from types import SimpleNamespace

    from realtime.show.output import Deck

    color, depth = scene_pair()
    source = SimpleNamespace(
        color=color,
        depth=depth[2::4, 2::4].copy(),
        spec=SimpleNamespace(condition_depth=False),
        input_index=lambda k: 0,
    )
    source.read = lambda k: (source.color, source.depth)
    deck = Deck(compositor)
    deck.load(source)  # type: ignore[arg-type]
    deck.compose(LENS)
    loop = deck.loop
    deck.compose(LENS)
    deck.compose(LENS.with_focus(FAR_M))
    assert deck.loop is loop and deck.composites == 2


def test_a_deck_renders_a_source_larger_than_the_window_at_the_window_size(compositor) -> None:  # type: ignore[no-untyped-def]
    """A deck in a window smaller than its source renders the source reduced to the window's
    letterbox (realtime.preview.shown), once per window size: the composite is the offscreen
    render of the reduced frame, bit for bit."""
    from types import SimpleNamespace

    from realtime.pipeline import read_rgb
    from realtime.preview.reduce import reduce_frame
    from realtime.show.output import Deck

    color, depth = scene_pair()
    expected = {
        size: compositor.render(*reduce_frame(color, depth, size), LENS)
        for size in ((64, 48), (40, 30))
    }
    source = SimpleNamespace(
        color=color,
        depth=depth,
        spec=SimpleNamespace(condition_depth=False),
        input_index=lambda k: 0,
    )
    source.read = lambda k: (source.color, source.depth)
    deck = Deck(compositor)
    deck.load(source)  # type: ignore[arg-type]
    composite = deck.compose(LENS, window=(96, 48))  # pillarboxed: 64x48 shown
    assert composite.size == (64, 48) and deck.textures[0].size == (64, 48)
    assert np.array_equal(read_rgb(composite), expected[64, 48])
    loop = deck.loop
    deck.compose(LENS, window=(96, 48))
    assert deck.loop is loop and deck.composites == 1
    assert np.array_equal(read_rgb(deck.compose(LENS, window=(40, 40))), expected[40, 30])
    assert deck.loop is not loop and deck.composites == 2
    assert deck.compose(LENS, window=(320, 240)).size == (W, H)  # never enlarged
