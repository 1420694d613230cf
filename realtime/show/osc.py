"""OSC remote control: a UDP transport for the command model (realtime.show.commands).

One value per address, so TouchDesigner, QLab and Max drive the show without
scripting (COMMANDS is the table the README shows). The server thread only
parses datagrams and hands each message to its Intake, which checks it and puts
it on the bounded queue every transport shares; the render thread drains the
queue once a frame and answers /status itself, after applying everything that
came before it, so a reply shows the values last set.

Datagrams that are not OSC are ignored and counted here; the rest of the
checks and counts are the command model's. Bundle time tags are ignored (a
far-future tag must not park the thread).

The server is python-osc's blocking UDP server in one daemon thread: messages
are handled one at a time in arrival order, so "the last value set" is the
last one sent; a thread per datagram (the threading server) would reorder them
and, under a flood, start thousands of threads beside the render thread.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from realtime.errors import InputError
from realtime.show.commands import Arg, CommandQueue, Intake

POLL_S = 0.2  # the server thread checks for shutdown this often
RECEIVE_BUFFER = 1 << 20  # socket receive buffer asked for (the kernel may grant less)

Sender = tuple[str, int]


def _quiet_python_osc(record: logging.LogRecord) -> bool:
    """python-osc logs a warning on the root logger for every odd type tag it parses: a
    flood of odd messages must not become a flood of log lines (they are counted instead)."""
    return "pythonosc" not in record.pathname


# --- The receiver ----------------------------------------------------------------------------


class OscControl:
    """Parses OSC datagrams into its Intake (checks, counts, the shared queue); serves them
    from a UDP thread; sends /status replies."""

    def __init__(self, queue: CommandQueue, reply_port: int | None = None) -> None:
        self.intake = Intake(queue)
        self.counts = self.intake.counts
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
        """Parse a datagram (message or bundle) and submit each message; never raises."""
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
            self.intake.submit(address, params, partial(self.reply, sender))

    # -- the render thread --

    def reply(self, sender: Sender, values: Sequence[tuple[str, Arg]]) -> None:
        """Send /status/NAME value for each (name, value) to the sender (or to
        --osc-reply-port)."""
        if self.server is None:
            return
        from pythonosc.osc_message_builder import OscMessageBuilder

        target = (sender[0], self.reply_port or sender[1])
        for address, value in values:
            builder = OscMessageBuilder(f"/status/{address}")
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


__all__ = ["OscControl"]
