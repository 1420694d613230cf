"""`rackfocus show`: installation mode. A fullscreen show that racks focus by itself
(a looping playlist), obeys OSC show control, reloads its config, and runs for weeks.

Layers, arrows pointing one way (options -> app -> the rest):
  options   the command line, checked into a frozen ShowOptions
  config    the show config (TOML): [show], [lens], [[source]], [[cue]]; its format
  playlist  cues and the Director: lens and source as pure state of time (no GL)
  osc       the OSC server thread: checks, counts, a bounded queue of commands
  inputs    sources on screen: frames by show time, failures retried, last frame kept
  output    the window (realtime.preview.window), two decks, cross-fades by GL blending
            through the display pass (realtime.preview.display)
  service   the rotating log, systemd's watchdog (sdnotify), the config watcher
  soak      resident memory, GL objects alive and frame times of a long run
  app       the loop: edits, commands, sources, Director, decks, draw, present
"""

from realtime.show.options import register

__all__ = ["register"]
