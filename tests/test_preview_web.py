"""The web remote on the preview (`rackfocus preview --web PORT`): the show's page, server
and command model on a preview window.

GL-free checks first: what the preview offers, and that a command it does not offer is
refused by the model's own checks and counted as unknown. Then real previews run in
subprocesses on a private Xvfb, on the wall clock, stopped with SIGTERM: Debian's
chromium (playwright) taps the page as a phone would, and the preview's state is read
back by the test's own WebSocket client with /status (not by the page, which would be
checking itself) and, at the end, from the preview's --print-focus and --stats.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_web import (
    PAGE_LATENCY,
    PHONE,
    TOKEN,
    free_tcp_port,
    launch,
    open_remote,
    refused_handshakes,
    slider_focus_m,
    tap,
)
from xvfb_server import xvfb_display

from realtime.lens import Lens
from realtime.preview.remote import OFFERS, preview_commands
from realtime.show.commands import COMMANDS, CommandQueue, Limits, Status
from realtime.show.web import WebRemote, state_message

ROOT = Path(__file__).resolve().parent.parent
SCREEN = (1280, 720)  # the Xvfb screen
W, H = 160, 120  # the test scene
NEAR_M, MID_M, FAR_M = 1.0, 2.5, 6.0  # its three depths: a band on the left, a box, a wall
CLIP_FRAMES, CLIP_FPS = 4, 10  # a sequence of the scene, for pause and play
WAIT_S = 20.0  # longest wait for the preview to start or reach a state
STOP_TIMEOUT_S = 60  # longest wait for a preview to exit after SIGTERM
STATUS = Status(2.0, 2.0, 0, 0.0, "c.npy", 0, 0, 0, 0, 0)  # any /status, for state messages
HIDDEN = ("#cues", "#next", "#pause", "#sources-box")  # no cues, no sources, nothing plays
SHOWN = ("#focus", "#near", "#far", "#fnumber")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_display(SCREEN) as name:
        yield name


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The still RGB-D pair's options: a near band (x < 60), a box at MID_M, a far wall."""
    folder = tmp_path_factory.mktemp("previewweb")
    yy, xx = np.mgrid[0:H, 0:W]
    color = np.zeros((H, W, 3), np.float32)
    color[..., 0] = (xx % 16 < 8) * 0.8 + 0.1
    color[..., 1] = (yy % 16 < 8) * 0.6 + 0.1
    color[..., 2] = 0.3
    depth = np.full((H, W), FAR_M, np.float32)
    depth[:, :60] = NEAR_M
    depth[40:80, 60:110] = MID_M
    np.save(folder / "c.npy", color)
    np.save(folder / "d.npy", depth)
    for i in range(CLIP_FRAMES):
        np.save(folder / f"c_{i:04d}.npy", np.roll(color, 8 * i, axis=1))
        np.save(folder / f"d_{i:04d}.npy", depth)
    return ["--rgb", str(folder / "c.npy"), "--depth", str(folder / "d.npy")]


def clip_args(still: list[str]) -> list[str]:
    folder = Path(still[1]).parent
    return ["--rgb", str(folder / "c_%04d.npy"), "--depth", str(folder / "d_%04d.npy")]


class Running:
    """A preview on the wall clock in a subprocess, serving the web remote; its stdout is
    read by a thread; stopped with SIGTERM."""

    def __init__(self, display: str, args: list[str], port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["DISPLAY"] = display
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "realtime", "preview", *args, "--web", str(port)]
            + ["--web-token", TOKEN, "--stats", "--print-focus"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.out: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))

    def wait_line(self, pattern: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for line in list(self.out):
                if re.search(pattern, line):
                    return line
            assert self.proc.poll() is None, (self.out, self.proc.communicate()[1])
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r}: {self.out}")

    def stop(self) -> tuple[int, list[str], str]:
        """SIGTERM; (exit code, stdout lines, stderr). stdout is the reader's alone."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.reader.join(timeout=STOP_TIMEOUT_S)
        assert self.proc.stderr is not None
        return code, self.out, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*args: Any) -> Running:
        started.append(Running(*args))
        return started[-1]

    yield start
    for preview in started:
        preview.kill()


def ask(port: int, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Send `messages` over a WebSocket of our own, then /status: its reply."""
    import aiohttp

    async def exchange() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/ws"
            async with session.ws_connect(url, protocols=("rackfocus", f"token.{TOKEN}")) as ws:
                for message in [*messages, {"address": "/status"}]:
                    await ws.send_str(json.dumps(message))
                async for reply in ws:
                    if reply.type == aiohttp.WSMsgType.TEXT:
                        data = json.loads(reply.data)
                        if data["type"] == "status":
                            return dict(data)
        raise AssertionError("the connection closed before /status was answered")

    out: list[dict[str, Any]] = []  # in a thread of its own: playwright's loop runs in this one
    thread = threading.Thread(target=lambda: out.append(asyncio.run(exchange())))
    thread.start()
    thread.join(WAIT_S)
    assert out, "no /status reply"
    return out[0]


def wait_status(port: int, ok: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        status = ask(port, [])
        if ok(status):
            return status
        assert time.monotonic() < deadline, f"{what}: {status}"
        time.sleep(0.05)


# --- The command model on the preview, without a window ----------------------------------------


def test_the_preview_offers_commands_of_the_model_and_refuses_the_rest_as_unknown() -> None:
    paths = [c.path for c in COMMANDS]
    assert all(o.path in paths for o in OFFERS)
    everything = preview_commands(Lens(), plays=True)
    assert everything == {o.path for o in OFFERS}
    assert "/lens/fnumber" not in preview_commands(Lens(artistic_blur_px=10.0), plays=True)
    assert "/show/pause" not in preview_commands(Lens(), plays=False)
    queue = CommandQueue()
    still = preview_commands(Lens(), plays=False)
    queue.limits = Limits(0.0505, commands=still)
    web = WebRemote(queue, TOKEN)
    for address, args in [("/cue/next", []), ("/show/source", ["a"]), ("/show/pause", [1])]:
        web.handle_text(json.dumps({"address": address, "args": args}))
    web.handle_text(json.dumps({"address": "/focus/distance", "args": [2.0]}))
    assert (web.counts.unknown, web.counts.accepted) == (3, 1)
    assert [c.path for c in queue.drain()] == ["/focus/distance"]
    assert state_message(STATUS, (), queue.limits)["commands"] == [p for p in paths if p in still]
    assert state_message(STATUS, (), Limits())["commands"] == paths  # the show offers all


def test_web_options_of_the_preview_are_checked(display: str, scene: list[str]) -> None:
    from test_preview import preview

    cases = [
        (["--web", "70000"], "--web 70000: must be a TCP port"),
        (["--web", "0", "--web-token", "short"], "--web-token: 8..128 letters"),
        (["--web-host", "0.0.0.0"], "--web-host and --web-token need --web PORT"),
    ]
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    cases.append(([f"--web={busy.getsockname()[1]}"], "web remote: cannot listen on TCP"))
    try:
        for args, message in cases:
            result = preview(display, [*scene, "--frames", "1", *args])
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    finally:
        busy.close()


# --- A real preview and a real browser ---------------------------------------------------------


def test_a_phone_browser_drives_the_preview(
    display: str, scene: list[str], running: Callable[..., Running]
) -> None:
    from playwright.sync_api import sync_playwright

    web = free_tcp_port()
    preview = running(display, [*scene, "--focus", str(MID_M)], web)
    preview.wait_line(rf"^web remote: listening on TCP 127\.0\.0\.1:{web}: open http://")
    with sync_playwright() as p:
        browser = launch(p)
        page = open_remote(browser, web)
        assert not any(page.locator(s).is_visible() for s in HIDDEN), "controls not on offer"
        assert all(page.locator(s).is_visible() for s in SHOWN)
        assert "cue" not in page.locator("#status").inner_text()
        tap(page, "#thumb", 20 / W, 60 / H)  # on the near band
        wait_status(web, lambda s: s["focus"] == NEAR_M, "the tapped depth")
        tap(page, "#thumb", 80 / W, 60 / H)  # on the box
        wait_status(web, lambda s: s["focus"] == MID_M, "the box")
        limits = page.evaluate("rackfocus.state.limits")
        tap(page, "#focus", 0.3)  # the slider jumps under the finger
        value = float(page.locator("#focus").input_value())
        assert 200 < value < 400
        want = slider_focus_m(value, limits["near_m"], limits["far_m"])
        wait_status(web, lambda s: math.isclose(s["focus"], want, rel_tol=1e-5), f"{want} m")
        page.locator("#focus").fill("900")
        want = slider_focus_m(900, limits["near_m"], limits["far_m"])
        wait_status(web, lambda s: math.isclose(s["focus"], want, rel_tol=1e-5), f"{want} m")
        tap(page, "#far")
        wait_status(web, lambda s: s["focus"] == FAR_M, "the background")
        tap(page, "#near")
        wait_status(web, lambda s: s["focus"] == NEAR_M, "the nearest subject")
        page.locator("#fnumber").fill("500")  # half-way in stops: sqrt(0.7 * 64)
        n = math.sqrt(0.7 * 64)
        wait_status(web, lambda s: math.isclose(s["fnumber"], n, rel_tol=1e-5), f"f/{n}")
        latencies = page.evaluate(PAGE_LATENCY, 30)
        s = ask(web, [{"address": "/cue/go", "args": [1]}])  # the show's: not on offer here
        assert (s["ignored"], s["refused"], s["dropped"]) == (1, 0, 0)
        offers = [("rackfocus",), ("rackfocus", "token.wrong-token")]
        assert refused_handshakes(web, offers) == [403, 403]
        wait_status(web, lambda s: s["refused"] == 2, "2 refused")
        stranger = browser.new_page(**PHONE)
        stranger.goto(f"http://127.0.0.1:{web}/#token=not-the-token")
        stranger.wait_for_function("document.getElementById('link').className === 'off'")
        assert "refused" in stranger.locator("#link").inner_text()
        wait_status(web, lambda s: s["refused"] >= 3, "the page refused")
        browser.close()
    last = ask(web, [{"address": "/focus/distance", "args": [3.0]}])
    assert last["focus"] == 3.0
    code, out, err = preview.stop()
    assert code == 0, err
    stats = next(i for i, line in enumerate(out) if line.startswith("frames "))
    assert float(out[stats - 1]) == 3.0  # --print-focus: the preview's own focus at the end
    summary = next(line for line in out if line.startswith("web:"))
    refused = int(re.search(r"(\d+) refused \(token\)", summary).group(1))  # type: ignore[union-attr]
    assert refused >= 3 and ", 1 unknown addresses" in summary, summary
    presented = next(line for line in out if line.startswith("commands:"))
    ms = sorted(latencies)
    print(
        f"\npreview page: command sent -> state with the new focus back: p50 "
        f"{ms[len(ms) // 2]:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)}; preview: {presented}"
    )
    assert max(ms) < 1000.0


def test_pause_and_play_are_offered_when_the_preview_plays_a_sequence(
    display: str, scene: list[str], running: Callable[..., Running]
) -> None:
    web = free_tcp_port()
    preview = running(display, [*clip_args(scene), "--fps", str(CLIP_FPS)], web)
    preview.wait_line(rf"^web remote: listening on TCP 127\.0\.0\.1:{web}")
    assert ask(web, [])["paused"] == 0
    assert ask(web, [{"address": "/show/pause", "args": [1]}])["paused"] == 1
    assert ask(web, [{"address": "/show/pause", "args": [1]}])["paused"] == 1  # stays paused
    s = ask(web, [{"address": "/show/pause", "args": [0]}])
    assert (s["paused"], s["ignored"]) == (0, 0)
    code, out, err = preview.stop()
    assert code == 0, err
