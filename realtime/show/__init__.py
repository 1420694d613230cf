"""`rackfocus show`: installation mode. A fullscreen show that racks focus by itself
(a looping playlist), obeys OSC show control and a web remote, reloads its config, and
runs for weeks.

Layers, arrows pointing one way (options -> app -> the rest):
  options   the command line, checked into a frozen ShowOptions
  config    the show config (TOML): [show], [lens], [[source]], [[cue]]; its format
  playlist  cues and the Director: lens and source as pure state of time (no GL)
  commands  the one command model: the table, checks, counts, /status, the bounded queue
  osc       the OSC transport: a UDP server thread that parses datagrams into commands
  web       the web transport: a page for a phone, a WebSocket, thumbnails (aiohttp thread)
  thumbnail the picture on screen made small on the GPU for the web remote
  inputs    sources on screen: frames by show time, failures retried, last frame kept
  output    the window (realtime.preview.window), two decks, cross-fades by GL blending
            through the display pass (realtime.preview.display)
  service   the rotating log, systemd's watchdog (sdnotify), the config watcher
  soak      resident memory, GL objects alive and frame times of a long run
  app       the loop: edits, commands, sources, Director, decks, draw, present
"""

from __future__ import annotations

import argparse

from realtime.show.options import EPILOG, add_show_arguments, load, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "show",
        help="installation mode: fullscreen, playlist, OSC and web control",
        description="A fullscreen show that racks focus by itself and obeys OSC show control "
        "and a web remote.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_show_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from realtime.show.app import run_show  # GL loads only when it runs

    options = options_from_args(args)
    return run_show(options, load(options))


__all__ = ["register", "run"]
