// Sprite tiles (vertex stage): one point per tile the dilate pass flags
// SPRITES, at the tile's centre, as wide as the caller's point size (the
// tile and a margin); other tiles are moved outside the view. The Scatter
// pass zeroes its layers under these points before it adds sprites: the
// composite reads the sprite layers in those tiles only (and, bilinearly,
// one half-res texel past them), so zeroing the rest would be wasted.
#include "dof_common.glsl"

uniform sampler2D reach;  // Dilate: .z = flags
uniform vec2 grid_size;   // the tile grid's size in the target's px: the viewport

void main() {
    ivec2 tiles = textureSize(reach, 0);
    ivec2 tile = ivec2(gl_VertexID % tiles.x, gl_VertexID / tiles.x);
    int flags = int(texelFetch(reach, tile, 0).z);
    if ((flags & FLAG_SPRITES) == 0) {
        gl_Position = vec4(-2.0, -2.0, 0.0, 1.0);
        return;
    }
    vec2 px = (vec2(tile) + 0.5) * (grid_size / vec2(tiles));
    gl_Position = vec4(px / grid_size * 2.0 - 1.0, 0.0, 1.0);
}
