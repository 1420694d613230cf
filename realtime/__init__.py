"""rackfocus: GPU depth-of-field and rack-focus compositor for RGB-D images.

Layout (arrows point one way): sources -> lens/focus -> passes -> pipeline ->
front ends (render, demo, bench, preview).
"""

__version__ = "0.1.0"
