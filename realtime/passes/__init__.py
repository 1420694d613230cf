"""Fragment-shader passes; each pairs with shaders/<name>.frag."""
