// Composite (vertex stage): one quad per tile, instanced. A tile no blur
// reaches belongs to the copy program (COPY_TILES); every other tile to the
// program compiled for its flags (TILE_FLAGS). Tiles of other classes
// collapse to a point and draw nothing, so each pixel is shaded once.
#include "dof_common.glsl"

uniform sampler2D reach;  // Dilate: .xy = fg and bg radius, .z = flags
uniform vec2 full_size;   // output size, px

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
    ivec2 tile = ivec2(gl_InstanceID % tiles.x, gl_InstanceID / tiles.x);
    vec4 radii = texelFetch(reach, tile, 0);
    tile_radius = max(radii.x, radii.y);
    if (!in_this_class(radii)) {
        gl_Position = vec4(-2.0, -2.0, 0.0, 1.0);
        return;
    }
    // a strip of two triangles: corners (0,0) (1,0) (0,1) (1,1)
    vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);
    vec2 px = min((vec2(tile) + corner) * float(TILE_SIZE), full_size);
    gl_Position = vec4(px / full_size * 2.0 - 1.0, 0.0, 1.0);
}
