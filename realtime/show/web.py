"""The web remote: a page for a phone, served by the show or the preview; a WebSocket
transport for the command model (realtime.show.commands), beside OSC.

    GET /                 the page (realtime/show/remote/: HTML, JS, CSS; no CDN)
    GET /ws               the WebSocket; its handshake must offer the subprotocols
                          "rackfocus" and "token.TOKEN" (a header, never a cookie)

Client -> show: text messages `{"address": "/focus/pick", "args": [0.5, 0.4]}`, the OSC
table's names and arguments, handed to the same Intake checks and queue as OSC. Show ->
client: `{"type": "state", ...}` (status, the commands on offer, cues, sources, limits) at
most STATE_HZ a second and at once after a command was applied, `{"type": "status", ...}`
answering /status, and binary messages: JPEG thumbnails, at most THUMBNAIL_FPS a second.
The page shows only the controls of the commands on offer: the preview offers no cues.

A handshake without the token is refused (403) and counted; text longer than
MAX_MESSAGE_BYTES, text that is not JSON of that shape, binary frames and unknown names
are ignored and counted, as OSC counts its own. The server is aiohttp on its own event
loop in one daemon thread. It never holds the render thread up: the render thread only
swaps a state string and hands over a small thumbnail, then wakes the loop; each client
keeps at most the newest state, the newest thumbnail and a few replies, written by its
own task, and a client that stops reading is cut off after SEND_TIMEOUT_S. A render
thread that sleeps while nothing changes (the preview's) sets `wake`: the server calls it
when a command is queued or a client connects.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import math
import re
import secrets
import socket
import threading
from collections import deque
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import numpy as np

from realtime.errors import InputError
from realtime.focus import FAR_FOCUS_M
from realtime.preview.controls import F_NUMBER_RANGE
from realtime.show.commands import (
    Arg,
    CommandQueue,
    Intake,
    Limits,
    Status,
    offered,
    status_values,
)

MAX_MESSAGE_BYTES = 1024  # a command message longer than this is ignored and counted
HARD_MESSAGE_BYTES = 65536  # beyond this the connection is closed (and the message counted)
MAX_CLIENTS = 256  # connected clients; more are refused (503) and counted as busy
THUMBNAIL_FPS = 5.0  # thumbnails a second, at most
THUMBNAIL_WIDTH_PX = 320  # thumbnail width (height: the picture's aspect)
JPEG_QUALITY = 75  # thumbnail JPEG quality, 1..95
STATE_HZ = 10.0  # state messages a second while nothing is commanded
SEND_TIMEOUT_S = 5.0  # a client that takes longer than this to take a message is cut off
WRITER_LIMIT_BYTES = 65536  # bytes buffered for a client before a send waits for it
SEND_BUFFER_BYTES = 32768  # the kernel's send buffer of a client's socket (no autotuning)
REPLIES_KEPT = 8  # /status replies waiting for one client; older ones are dropped
START_TIMEOUT_S = 10.0  # longest wait for the server to listen
SHUTDOWN_S = 1.0  # longest wait for connections to close at the end
SLIDER_NEAR_M = 0.25  # the focus slider's near end (unless the lens cannot focus that near)
SUBPROTOCOL = "rackfocus"  # the WebSocket subprotocol the page speaks
TOKEN_PREFIX = "token."  # the token travels as the subprotocol "token.TOKEN"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")  # what a subprotocol may carry
TOKEN_BYTES = 16  # random bytes of a generated token
ASSETS = {  # URL path -> (file in realtime/show/remote, content type)
    "/": ("index.html", "text/html"),
    "/remote.js": ("remote.js", "text/javascript"),
    "/remote.css": ("remote.css", "text/css"),
}
HEADERS = {  # every page response: no cache, no referrer, only our own scripts
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'",
}


def check_token(token: str, option: str = "--web-token") -> str:
    if not TOKEN_PATTERN.fullmatch(token):
        raise InputError(f"{option}: 8..128 letters, digits, '-' or '_' (it travels in a header)")
    return token


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def encode_jpeg(pixels: np.ndarray) -> bytes:
    """HxWx3 uint8 (top row first) as a JPEG."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def state_message(status: Status, cues: Sequence[str], limits: Limits) -> dict[str, Any]:
    """What the page shows and offers: /status, the commands on offer (the page hides the
    rest), the cues, the sources, the sliders' ends (the focus slider from the farthest
    focus to SLIDER_NEAR_M, even in dioptres)."""
    return {
        "status": dict(status_values(status)),
        "commands": offered(limits),
        "cues": list(cues),
        "sources": list(limits.sources),
        "limits": {
            "near_m": max(limits.min_focus_m, SLIDER_NEAR_M),
            "far_m": FAR_FOCUS_M,
            "f_number_range": list(F_NUMBER_RANGE),
        },
    }


def offered_token(header: str) -> str:
    """The token among a Sec-WebSocket-Protocol header's subprotocols ('' if none)."""
    for part in header.split(","):
        part = part.strip()
        if part.startswith(TOKEN_PREFIX):
            return part[len(TOKEN_PREFIX) :]
    return ""


class Peer:
    """One connected client: the newest state and thumbnail for it, a few replies."""

    def __init__(self, ws: Any, transport: Any) -> None:
        self.ws = ws
        self.transport = transport  # aborted when the client stops reading
        self.state: str | None = None  # newest state message not yet sent
        self.jpeg: bytes | None = None  # newest thumbnail not yet sent
        self.replies: deque[str] = deque(maxlen=REPLIES_KEPT)
        self.wake = asyncio.Event()


class WebRemote:
    """The web remote's server thread: the page, the WebSocket, the thumbnails."""

    def __init__(self, queue: CommandQueue, token: str) -> None:
        self.intake = Intake(queue)
        self.counts = self.intake.counts
        self.token = token
        self.busy = 0  # connections refused because MAX_CLIENTS were connected
        self.cut_off = 0  # clients cut off because they stopped reading
        self.peers: set[Peer] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.runner: Any = None
        self.address: tuple[str, int] | None = None  # where the server listens
        self.error: BaseException | None = None  # why it could not listen
        self.state_at = -math.inf  # when the render thread last published state
        self.thumbnail_at = -math.inf  # when it last handed over a thumbnail
        self.encoding = False  # a thumbnail is being encoded (the next waits)
        self.wake: Callable[[], None] = lambda: None  # a command is queued, a client came
        self.assets = {
            path: (resources.files(__package__).joinpath("remote", name).read_bytes(), kind)
            for path, (name, kind) in ASSETS.items()
        }

    # -- messages (the server thread) --

    def handle_text(self, text: str, reply: Any = None) -> None:
        """One text message from an authenticated client (already counted as received)."""
        if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
            self.counts.oversized += 1
            return
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        address = data.get("address") if isinstance(data, dict) else None
        args = data.get("args", []) if isinstance(data, dict) else None
        if not isinstance(address, str) or not isinstance(args, list):
            self.counts.malformed += 1
            return
        accepted = self.counts.accepted
        self.intake.submit(address, args, reply)
        if self.counts.accepted != accepted:
            self.wake()

    # -- the render thread --

    @property
    def clients(self) -> int:
        return len(self.peers)

    def wants_state(self, now: float, urgent: bool = False) -> bool:
        """Whether to publish the state now: at once when `urgent` (a command was applied),
        else at most STATE_HZ a second; never when no client is connected."""
        return bool(self.peers) and (urgent or now - self.state_at >= 1.0 / STATE_HZ)

    def publish(self, state: dict[str, Any], now: float) -> None:
        """The show's state, for every client."""
        self.state_at = now
        self._call(self._set_state, json.dumps({"type": "state", **state}))

    def wants_thumbnail(self, now: float) -> bool:
        return (
            bool(self.peers)
            and not self.encoding
            and now - self.thumbnail_at >= 1.0 / THUMBNAIL_FPS
        )

    def offer_thumbnail(self, pixels: np.ndarray, now: float) -> None:
        """A small picture (HxWx3 uint8): encoded and sent by the server thread."""
        self.thumbnail_at = now
        self.encoding = True
        self._call(self._encode, pixels)

    def reply_to(self, peer: Peer) -> Any:
        """The reply function of a command from `peer` (called on the render thread)."""

        def reply(values: Sequence[tuple[str, Arg]]) -> None:
            self._call(self._reply, peer, json.dumps({"type": "status", **dict(values)}))

        return reply

    def _call(self, fn: Any, *args: Any) -> None:
        loop = self.loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop is closing
                pass

    # -- the server thread: fan-out --

    def _set_state(self, text: str) -> None:
        for peer in self.peers:
            peer.state = text
            peer.wake.set()

    def _reply(self, peer: Peer, text: str) -> None:
        peer.replies.append(text)
        peer.wake.set()

    def _encode(self, pixels: np.ndarray) -> None:
        try:
            jpeg = encode_jpeg(pixels)
        finally:
            self.encoding = False
        for peer in self.peers:
            peer.jpeg = jpeg
            peer.wake.set()

    async def _writer(self, peer: Peer) -> None:
        """Send what `peer` has waiting, newest state and thumbnail only; cut it off when
        a send takes longer than SEND_TIMEOUT_S (it stopped reading)."""
        try:
            while not peer.ws.closed:
                await peer.wake.wait()
                peer.wake.clear()
                while peer.replies or peer.state is not None or peer.jpeg is not None:
                    if peer.replies:
                        send = peer.ws.send_str(peer.replies.popleft())
                    elif peer.state is not None:
                        send, peer.state = peer.ws.send_str(peer.state), None
                    else:
                        assert peer.jpeg is not None
                        send, peer.jpeg = peer.ws.send_bytes(peer.jpeg), None
                    await asyncio.wait_for(send, SEND_TIMEOUT_S)
        except TimeoutError:
            self.cut_off += 1
            peer.transport.abort()
        except (ConnectionError, RuntimeError):
            peer.transport.abort()

    # -- the server thread: requests --

    async def _asset(self, request: Any) -> Any:
        from aiohttp import web

        body, kind = self.assets[request.path]
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=HEADERS)

    async def _socket(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        token = offered_token(request.headers.get("Sec-WebSocket-Protocol", ""))
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            self.counts.refused += 1
            return web.Response(status=403, text="token refused", headers=HEADERS)
        if len(self.peers) >= MAX_CLIENTS:
            self.busy += 1
            return web.Response(status=503, text="too many clients", headers=HEADERS)
        ws = web.WebSocketResponse(
            protocols=(SUBPROTOCOL,),
            max_msg_size=HARD_MESSAGE_BYTES,
            compress=False,
            writer_limit=WRITER_LIMIT_BYTES,
            autoping=True,
        )
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None:  # the kernel must not buffer megabytes for a client that stalls
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        await ws.prepare(request)
        peer = Peer(ws, request.transport)
        self.peers.add(peer)
        self.wake()  # it wants the state and a thumbnail
        writer = asyncio.ensure_future(self._writer(peer))
        reply = self.reply_to(peer)
        try:
            async for message in ws:
                self.counts.received += 1
                if message.type == WSMsgType.TEXT:
                    self.handle_text(message.data, reply)
                elif message.type == WSMsgType.ERROR:  # beyond HARD_MESSAGE_BYTES: closed
                    self.counts.oversized += 1
                else:
                    self.counts.malformed += 1
        finally:
            self.peers.discard(peer)
            peer.wake.set()
            writer.cancel()
        return ws

    def summary(self) -> str:
        line = self.counts.summary("web", "not JSON", web=True)
        return (
            f"{line}, {self.busy} busy (over {MAX_CLIENTS} clients), "
            f"{self.cut_off} cut off (not reading)"
        )

    # -- lifetime --

    def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on TCP host:port (0: any free port) in a daemon thread; where it listens."""
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            raise InputError("the web remote needs aiohttp: pip install 'rackfocus[web]'") from None
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(host, port, ready), name="web", daemon=True
        )
        self.thread.start()
        ready.wait(START_TIMEOUT_S)
        if self.address is None:
            e = self.error
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e or "timeout")
            raise InputError(f"web remote: cannot listen on TCP {host}:{port} ({reason})")
        return self.address

    def _run(self, host: str, port: int, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._listen(host, port))
        except (OSError, OverflowError, ValueError) as e:
            self.error = e
            ready.set()
            loop.close()
            return
        self.loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            self.loop = None
            for peer in list(self.peers):
                peer.transport.abort()
            loop.run_until_complete(self.runner.cleanup())
            loop.close()

    async def _listen(self, host: str, port: int) -> None:
        from aiohttp import web

        app = web.Application()
        for path in ASSETS:
            app.router.add_get(path, self._asset)
        app.router.add_get("/ws", self._socket)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_S)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        try:
            await site.start()
        except BaseException:
            await self.runner.cleanup()
            raise
        sockets = self.runner.addresses
        name = sockets[0] if sockets else (host, port)
        self.address = (str(name[0]), int(name[1]))

    def url(self) -> str:
        """Where a browser opens the page, the token in the fragment (never sent to a
        server, kept out of logs and Referer headers)."""
        assert self.address is not None
        host, port = self.address
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/#token={self.token}"

    def close(self) -> None:
        loop, thread = self.loop, self.thread
        if loop is not None:
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass
        if thread is not None:
            thread.join(timeout=START_TIMEOUT_S)


__all__ = ["WebRemote", "check_token", "encode_jpeg", "new_token", "state_message"]
