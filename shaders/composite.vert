// Composite (vertex stage): one point per tile, TILE_SIZE px wide at the
// tile's centre, so it covers the tile's pixels (a point is one vertex where
// a quad is four, and vertex work is not parallel on a software rasteriser).
// A tile no blur reaches belongs to the copy program (COPY_TILES); every
// other tile to the program compiled for its flags (TILE_FLAGS). Tiles of
// other classes are moved outside the view and draw nothing, so each pixel
// is shaded once.
#include "dof_common.glsl"

uniform sampler2D reach;  // Dilate: .xy = fg and bg radius, .z = flags
uniform vec2 grid_size;   // the tile grid's size, px: the viewport (the output and any
                          // partial tiles past its edge, whose pixels are not written)

flat out float tile_radius;  // the largest blur radius reaching the tile (full-res px)

bool in_this_class(vec4 tile) {
    bool copy = copy_tile(tile.xy);
#if COPY_TILES
    return copy;
#else
    return !copy && int(tile.z) == TILE_FLAGS;
#endif
}

void main() {
    ivec2 tiles = textureSize(reach, 0);
    ivec2 tile = ivec2(gl_VertexID % tiles.x, gl_VertexID / tiles.x);
    vec4 radii = texelFetch(reach, tile, 0);
    tile_radius = max(radii.x, radii.y);
    if (!in_this_class(radii)) {
        gl_Position = vec4(-2.0, -2.0, 0.0, 1.0);
        return;
    }
    vec2 px = (vec2(tile) + 0.5) * float(TILE_SIZE);
    gl_Position = vec4(px / grid_size * 2.0 - 1.0, 0.0, 1.0);
}
