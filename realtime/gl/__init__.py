"""OpenGL helpers: context creation and shader loading."""
