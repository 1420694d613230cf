"""`rackfocus preview`: a live window onto the compositor; click to rack focus.

The window (glfw, OpenGL 3.3 core, vsync) shows the same `Compositor` passes an
offscreen render runs, drawn by the display pass (sRGB, flipped, letterboxed).
The passes run only when the lens or the input frame changes (a rack or cue in
motion, a new f-number or aperture, the next frame of a sequence or video);
otherwise the window just redraws the last composite, and an idle interactive
window sleeps until the next event.

--rgb and --depth may name image sequences (rgb_%04d.png, rgb_*.png) or videos; they
play in a loop, one input frame per 1/fps of preview time (fps: --fps, else the
video's, else 24); space pauses them, together with any --cues timeline.

Layers, arrows pointing one way (options -> app -> controls, window, display):
  options   the command line, checked into a frozen PreviewOptions
  script    scripted input events (--click X,Y@T, ...) for tests and benchmarks
  controls  focus, lens, view and playback as pure functions of input and time (no GL)
  window    the glfw window; its callbacks only queue events
  display   the display pass: the composite or a debug view into the window
  shown     the size rendered: at most the window's letterbox, the input reduced to it
            once a frame (reduce: colour by area, depth keeping its edges)
  app       the loop: events -> Controls -> FrameLoop (realtime.frameloop) -> display -> swap
  remote    --web: the show's web remote (page, server, command model) on app's loop
"""

from __future__ import annotations

import argparse

from realtime.preview.options import HELP, add_preview_arguments, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "preview",
        help="live window: click to rack focus",
        description="A live depth-of-field window onto an RGB-D image.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_preview_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from realtime.preview.session import run_preview  # GL and numpy load only when it runs

    return run_preview(options_from_args(args))


__all__ = ["register", "run"]
