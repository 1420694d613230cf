"""The web remote: one command model under two transports, a real phone-sized browser, abuse.

The command model is checked without a network (OSC datagrams and web messages must
become the same Commands and the same counts). The rest runs `rackfocus show` in a
subprocess on a private Xvfb with --web on a free localhost port: Debian's chromium,
driven by playwright, taps the page as a phone would, and the show's state is read
back over OSC /status (a second transport, so the page is not checking itself). The
abuse test measures the show's own frame times before and during the abuse, in one
run, from its status lines. Without chromium the browser test fails, never skips.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_show import (
    FAR_M,
    NEAR_M,
    ROOT,
    SCREEN,
    Client,
    Live,
    Scenes,
    config,
    free_port,
    osc,
    scene_pair,
    show,
)
from xvfb_server import xvfb_display

from realtime.errors import InputError
from realtime.lens import Lens
from realtime.show.commands import COMMANDS, CommandQueue, Limits
from realtime.show.config import load_config
from realtime.show.osc import OscControl
from realtime.show.web import MAX_MESSAGE_BYTES, WebRemote

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {  # a phone-sized page; the test evaluates scripts, which the page's CSP forbids
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "bypass_csp": True,
}
TOKEN = "test-token-0123456789"
SCREENSHOT = ROOT / "docs" / "web-remote.png"
LIMITS = Limits(min_focus_m=0.0505, cues=3, sources=("a", "b"))
# For every command: arguments that pass, and arguments that fail (and which counter).
SAMPLES: dict[str, tuple[list[Any], list[Any], str]] = {
    "/focus/distance": ([2.5], [0.01], "out_of_range"),
    "/focus/rack": ([1.5, 2.0], [1.5], "wrong_type"),
    "/focus/pick": ([0.25, 1.0], [1.5, 0.5], "out_of_range"),
    "/focus/subject": (["far"], ["middle"], "out_of_range"),
    "/lens/fnumber": ([4.0], [100.0], "out_of_range"),
    "/cue/go": ([3], [1.5], "wrong_type"),
    "/cue/next": ([], ["now"], "wrong_type"),
    "/show/pause": ([1], [2], "out_of_range"),
    "/show/source": (["b"], ["c"], "out_of_range"),
    "/status": ([], ["now"], "wrong_type"),
}
ABUSE_CLIENTS = 200  # concurrent WebSocket clients of the abuse test
PHASE_S = 6.0  # each phase of the abuse test (quiet, abused)
CUT_OFF_WAIT_S = 30.0  # longest wait for the client that never reads to be cut off


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_display(SCREEN) as name:
        yield name


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Scenes:
    folder = tmp_path_factory.mktemp("web")
    pairs = {"a": scene_pair(), "b": scene_pair(flip=True)}
    for name, (color, depth) in pairs.items():
        np.save(folder / f"{name}_c.npy", color)
        np.save(folder / f"{name}_d.npy", depth)
    return Scenes(folder, pairs["a"], pairs["b"])


@pytest.fixture
def live() -> Iterator[Callable[..., Live]]:
    started: list[Live] = []

    def start(*args: Any, **kw: Any) -> Live:
        started.append(Live(*args, **kw))
        return started[-1]

    yield start
    for show_ in started:
        show_.kill()


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OFFICE = (  # a photographed scene as the second source: the screenshot shows it
    '[[source]]\nname = "office"\n'
    f'rgb = "{ROOT}/tests/data/tum/color.png"\ndepth = "{ROOT}/tests/data/tum/depth.png"\n'
    "depth_scale = 0.0002\nsize = [320, 240]\n"
)


def web_show_config(scenes: Scenes, osc_port: int, web_port: int, extra: str = "") -> Path:
    return config(
        scenes.folder,
        f'[show]\nosc_host = "127.0.0.1"\nosc_port = {osc_port}\nweb_port = {web_port}\n'
        f'web_token = "{TOKEN}"\nrack_duration = 0.2\nfade = 0.2\n{extra}'
        "[lens]\nfocus_m = 2.5\nf_number = 2.0\n"
        + scenes.source("a")
        + OFFICE
        + "[[cue]]\nhold = 100\n[[cue]]\nrack = 4.0\nduration = 0.2\n[[cue]]\nhold = 100\n",
        f"web{web_port}.toml",
    )


# --- The command model, without a network ---------------------------------------------------


def test_samples_cover_the_command_table() -> None:
    assert set(SAMPLES) == {c.path for c in COMMANDS}


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda c: c.path)
def test_osc_and_web_messages_make_identical_commands(spec: Any) -> None:
    good, bad, reason = SAMPLES[spec.path]
    queues = CommandQueue(), CommandQueue()
    for q in queues:
        q.limits = LIMITS
    over_osc, over_web = OscControl(queues[0]), WebRemote(queues[1], TOKEN)
    for args in (good, bad):
        over_osc.handle_packet(osc(spec.path, *args), ("127.0.0.1", 9))
        over_web.counts.received += 1
        over_web.handle_text(json.dumps({"address": spec.path, "args": args}))
    from_osc, from_web = queues[0].drain(), queues[1].drain()
    assert len(from_osc) == 1 and from_osc == from_web
    assert from_osc[0].path == spec.path
    a, b = over_osc.counts, over_web.counts
    assert (a.received, a.accepted, a.ignored) == (b.received, b.accepted, b.ignored) == (2, 1, 1)
    assert getattr(a, reason) == getattr(b, reason) == 1


def test_web_messages_that_are_not_commands_are_counted() -> None:
    queue = CommandQueue()
    queue.limits = LIMITS
    web = WebRemote(queue, TOKEN)
    malformed = ["{", "null", "[1, 2]", '{"address": 5}', '{"address": "/cue/next", "args": 1}']
    malformed += ["[" * 600 + "]" * 400]  # under the size limit, deeper than JSON may nest
    for text in malformed:
        web.handle_text(text)
    long = json.dumps({"address": "/focus/distance", "args": [2.0], "pad": "x" * 2000})
    web.handle_text(long)
    web.handle_text(json.dumps({"address": "/lights/on"}))
    web.handle_text(json.dumps({"address": "/cue/next"}))  # args may be left out
    c = web.counts
    assert (c.malformed, c.oversized, c.unknown, c.accepted) == (len(malformed), 1, 1, 1)
    assert len(long) > MAX_MESSAGE_BYTES and len(queue.drain()) == 1


def test_web_options_and_config_keys_are_checked(scenes: Scenes) -> None:
    path = config(
        scenes.folder,
        f'[show]\nweb_port = 8080\nweb_host = "0.0.0.0"\nweb_token = "{TOKEN}"\n'
        + scenes.source("a"),
        "webkeys.toml",
    )
    s = load_config(path, Lens()).settings
    assert (s.web_port, s.web_host, s.web_token) == (8080, "0.0.0.0", TOKEN)
    assert load_config(config(scenes.folder, scenes.source("a")), Lens()).settings.web_host == (
        "127.0.0.1"
    )  # this machine only, unless told
    bad = config(scenes.folder, '[show]\nweb_token = "a b"\n' + scenes.source("a"), "bad.toml")
    with pytest.raises(InputError, match=r"bad\.toml:2: \[show\] key 'web_token': the token"):
        load_config(bad, Lens())
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    cases = [
        (["--web", "70000"], "--web 70000: must be a TCP port"),
        (["--web", "0", "--web-token", "short"], "--web-token: 8..128 letters"),
        (["--web", str(busy.getsockname()[1])], "web remote: cannot listen on TCP 127.0.0.1:"),
    ]
    try:
        for args, message in cases:
            result = show(None, [*scenes.args, *args])
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    finally:
        busy.close()


# --- A real browser ----------------------------------------------------------------------------


def launch(playwright: Any) -> Any:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_remote(browser: Any, web: int) -> Any:
    """The remote on a phone-sized page with the token, once its thumbnail is live."""
    page = browser.new_page(**PHONE)
    page.goto(f"http://127.0.0.1:{web}/#token={TOKEN}")
    page.wait_for_function("document.getElementById('thumb').naturalWidth > 0")
    assert page.locator("#link").inner_text() == "live"
    return page


def tap(page: Any, selector: str, fx: float = 0.5, fy: float = 0.5) -> None:
    """A finger's tap at fractions (fx, fy) of an element."""
    box = page.locator(selector).bounding_box()
    page.touchscreen.tap(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def slider_focus_m(value: float, near_m: float, far_m: float) -> float:
    """The focus a slider position means: even in dioptres from far (0) to near (1000)."""
    d_far, d_near = 1.0 / far_m, 1.0 / near_m
    return 1.0 / (d_far + (d_near - d_far) * value / 1000.0)


def refused_handshakes(port: int, protocols: list[tuple[str, ...]]) -> list[int]:
    """HTTP status of WebSocket handshakes offering these subprotocols."""
    import aiohttp

    async def attempt(offer: tuple[str, ...]) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"http://127.0.0.1:{port}/ws", protocols=offer):
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status

    async def every() -> list[int]:
        return [await attempt(offer) for offer in protocols]

    out: list[int] = []  # in a thread of its own: playwright's loop runs in this one
    thread = threading.Thread(target=lambda: out.extend(asyncio.run(every())))
    thread.start()
    thread.join()
    return out


def test_a_phone_browser_drives_the_show(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    from playwright.sync_api import sync_playwright

    port, web = free_port(), free_tcp_port()
    path = web_show_config(scenes, port, web)
    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log")
    client = Client(port)
    try:
        client.ready()
        running.wait_log(rf"^web remote: listening on TCP 127\.0\.0\.1:{web}: open http://")
        with sync_playwright() as p:
            browser = launch(p)
            page = open_remote(browser, web)
            tap(page, "#thumb", 20 / 160, 60 / 120)  # on the near band
            client.wait(lambda s: s["focus"] == NEAR_M, "the tapped depth")
            limits = page.evaluate("rackfocus.state.limits")
            tap(page, "#focus", 0.3)  # the slider jumps under the finger
            value = float(page.locator("#focus").input_value())
            assert 200 < value < 400
            want = slider_focus_m(value, limits["near_m"], limits["far_m"])
            client.wait(lambda s: math.isclose(s["focus"], want, rel_tol=1e-5), f"{want} m")
            page.locator("#focus").fill("900")  # and where it is set
            want = slider_focus_m(900, limits["near_m"], limits["far_m"])
            client.wait(lambda s: math.isclose(s["focus"], want, rel_tol=1e-5), f"{want} m")
            tap(page, "#far")
            client.wait(lambda s: s["focus"] == FAR_M, "the background")
            tap(page, "#near")
            client.wait(lambda s: s["focus"] == NEAR_M, "the nearest subject")
            page.locator("#fnumber").fill("500")  # half-way in stops: sqrt(0.7 * 64)
            client.wait(lambda s: math.isclose(s["fnumber"], math.sqrt(0.7 * 64), rel_tol=1e-5), "")
            tap(page, "#cues li:nth-child(2) button")  # cue 2: a rack to 4 m, then a hold
            client.wait(lambda s: s["cue"] == 3 and s["focus"] == 4.0 and not s["paused"], "")
            tap(page, "#next")
            client.wait(lambda s: s["cue"] == 1, "the playlist wrapped to cue 1")
            tap(page, "#pause")
            client.wait(lambda s: s["paused"] == 1, "paused")
            tap(page, "#pause")
            client.wait(lambda s: s["paused"] == 0, "playing")
            latencies = page.evaluate(PAGE_LATENCY, 30)
            tap(page, "#sources button[data-name='office']")
            client.wait(lambda s: s["source"] == "office", "source office")
            page.wait_for_function("rackfocus.state.status.source === 'office'")
            page.locator("#fnumber").fill("150")  # about f/1.4
            tap(page, "#thumb", 0.12, 0.65)  # the chair in front, on the left
            before = client.status()["focus"]
            client.wait(lambda s: s["focus"] < 2.0 and s["focus"] != before, "the chair")
            time.sleep(0.6)  # a thumbnail of the racked picture arrives
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            s = client.status()
            assert s["refused"] == 0 and s["ignored"] == 0 and s["dropped"] == 0
            # refused: no token, a wrong one (a handshake header each), a page without it
            offers = [("rackfocus",), ("rackfocus", "token.wrong-token")]
            assert refused_handshakes(web, offers) == [403, 403]
            client.wait(lambda s: s["refused"] == 2, "2 refused")
            stranger = browser.new_page(**PHONE)
            stranger.goto(f"http://127.0.0.1:{web}/#token=not-the-token")
            stranger.wait_for_function("document.getElementById('link').className === 'off'")
            assert "refused" in stranger.locator("#link").inner_text()
            client.wait(lambda s: s["refused"] >= 3, "the page refused")
            browser.close()
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    lines = running.lines()
    presented = next(line for line in lines if line.startswith("commands:"))
    ms = sorted(latencies)
    print(
        f"\npage: command sent -> state with the new focus back: p50 {ms[len(ms) // 2]:.1f} ms,"
        f" max {ms[-1]:.1f} ms over {len(ms)}; show: {presented}"
    )
    assert max(ms) < 1000.0


PAGE_LATENCY = """async (n) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const target = 2.0 + 0.01 * i;
    const t0 = performance.now();
    const done = new Promise((resolve) => {
      const seen = (e) => {
        if (Math.abs(e.detail.status.focus - target) < 1e-9) {
          document.removeEventListener("rackfocus-state", seen);
          resolve(performance.now() - t0);
        }
      };
      document.addEventListener("rackfocus-state", seen);
    });
    rackfocus.send("/focus/distance", [target]);
    out.push(await done);
    await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}"""


# --- Abuse ------------------------------------------------------------------------------------

STATUS_LINE = re.compile(r"frame time p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms over (\d+)")


def frame_stats(running: Live, start: float, end: float) -> list[tuple[float, float, int]]:
    """(p50, p99, frames) of the status lines logged in (start, end] (wall time)."""
    out = []
    text = running.log.read_text().splitlines()
    for line in text:
        m = STATUS_LINE.search(line)
        when = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if m and start < when <= end:
            out.append((float(m.group(1)), float(m.group(2)), int(m.group(4))))
    return out


async def abuse(port: int, hold_s: float, sent: dict[str, int]) -> dict[str, int]:
    """ABUSE_CLIENTS clients reading everything, some sending junk; handshakes without
    the token; one message over the hard limit. Counts of what was sent, and received."""
    import aiohttp

    url = f"http://127.0.0.1:{port}/ws"
    good = ("rackfocus", f"token.{TOKEN}")
    got = {"jpeg": 0, "state": 0, "closed": 0}
    junk = ["{", "null", "[1]", json.dumps({"address": "/lights/on"}), "x" * 2000]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def reader(ws: Any) -> None:
        async for message in ws:
            got["jpeg" if message.type == aiohttp.WSMsgType.BINARY else "state"] += 1

    sockets = [await session.ws_connect(url, protocols=good) for _ in range(ABUSE_CLIENTS)]
    readers = [asyncio.ensure_future(reader(ws)) for ws in sockets]
    end = time.monotonic() + hold_s
    while time.monotonic() < end:
        for ws in sockets[:10]:
            for text in junk:
                await ws.send_str(text)
            await ws.send_bytes(b"\x00\x01")
            sent["junk"] += len(junk) + 1
        for _ in range(5):
            try:
                await session.ws_connect(url, protocols=("rackfocus", "token.guess-guess"))
            except aiohttp.WSServerHandshakeError:
                sent["refused"] += 1
        await asyncio.sleep(0.1)
    huge = await session.ws_connect(url, protocols=good)
    await huge.send_str("x" * 100_000)  # beyond the hard limit: counted, and cut off
    sent["junk"] += 1
    async for _ in huge:
        pass
    got["closed"] += int(huge.closed)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    await session.close()
    return got


def never_reading_client(port: int) -> socket.socket:
    """A WebSocket handshake with the token, then a socket that is never read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: rackfocus, token.{TOKEN}\r\n"
            "\r\n"
        ).encode()
    )
    return sock


def test_abuse_never_stalls_the_show(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    port, web = free_port(), free_tcp_port()
    path = web_show_config(scenes, port, web, "status_interval = 1\n")
    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log")
    client = Client(port)
    sent = {"junk": 0, "refused": 0}
    try:
        client.ready()
        quiet = time.time()
        time.sleep(PHASE_S)
        abused = time.time()
        watcher = never_reading_client(web)
        got = asyncio.run(abuse(web, PHASE_S, sent))
        over = time.time()
        s = client.status()
        assert s["fps"] > 0
        assert s["ignored"] == sent["junk"] and s["refused"] == sent["refused"]
        deadline = time.monotonic() + CUT_OFF_WAIT_S  # buffers fill, then SEND_TIMEOUT_S
        while not any(", 1 cut off (not reading)" in line for line in running.lines()):
            assert time.monotonic() < deadline, "the client that never reads was not cut off"
            time.sleep(0.2)
        watcher.close()
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    assert got["jpeg"] > ABUSE_CLIENTS and got["state"] > ABUSE_CLIENTS and got["closed"] == 1
    # status lines every second: the quiet ones after the first, and every one that saw abuse
    without = frame_stats(running, quiet + 1.0, abused)
    with_ = frame_stats(running, abused, over + 1.0)
    assert len(without) >= 3 and len(with_) >= 3, running.lines()
    assert all(frames >= 10 for _, _, frames in with_)  # presenting all along
    p99_without = sorted(p99 for _, p99, _ in without)
    p99_with = sorted(p99 for _, p99, _ in with_)
    print(
        f"\nframe time p99 of 1 s windows, median / worst: quiet {np.median(p99_without):.1f} / "
        f"{p99_without[-1]:.1f} ms; with {ABUSE_CLIENTS} clients, {sent['junk']} junk messages, "
        f"{sent['refused']} refused handshakes and a client that never reads "
        f"{np.median(p99_with):.1f} / {p99_with[-1]:.1f} ms; frames a second "
        f"{[f for _, _, f in with_]}"
    )
    assert p99_with[-1] < 250.0  # never a stall
    summary = next(line for line in running.lines() if line.startswith("web:"))
    assert f"{sent['refused']} refused" in summary


def test_the_server_thread_stops(tmp_path: Path) -> None:
    remote = WebRemote(CommandQueue(), TOKEN)
    host, port = remote.start("127.0.0.1", 0)
    assert port > 0 and remote.url() == f"http://127.0.0.1:{port}/#token={TOKEN}"
    remote.close()
    assert remote.thread is not None and not remote.thread.is_alive()
    assert not any(t.name == "web" for t in threading.enumerate())
