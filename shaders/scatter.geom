// Scatter (geometry stage): each highlight texel of a tile becomes a point
// sprite of its CoC diameter; tiles without highlights emit nothing. Drawn
// twice: into the full-res layers (half_res = 0) and the half-res ones, each
// sprite's energy split between them by its size (SPRITE_HALF_MIN..FULL).
#include "dof_common.glsl"

layout(points) in;
layout(points, max_vertices = HALF_TILE_TEXELS) out;  // every texel may be a highlight

uniform sampler2D tiles;      // Tiles: .z = largest sprite |CoC|, 0 if no highlight
uniform sampler2D highlight;   // Setup target 1: rgb excess
uniform sampler2D half_color;  // Setup target 0: a = signed CoC
uniform sampler2D prepared;   // Prepare: rgb (to centre the sprite on the light)
uniform vec2 full_size;       // output size, full-res px
uniform int half_res;         // 1: drawing the half-res layers

flat in ivec2 tile[];

flat out vec4 sprite;     // rgb intensity per full-res px inside the disc, a = signed CoC
flat out float weight;    // its weight per full-res px in a normalised gather (density)
flat out vec2 centre_px;  // sprite centre, full-res px

void main() {
    if (texelFetch(tiles, tile[0], 0).z <= 0.0) return;
    ivec2 last_half = textureSize(highlight, 0) - 1;
    ivec2 last = textureSize(prepared, 0) - 1;
    for (int i = 0; i < HALF_TILE_TEXELS; ++i) {
        ivec2 texel = tile[0] * HALF_TILE + ivec2(i % HALF_TILE, i / HALF_TILE);
        if (any(greaterThan(texel, last_half))) continue;
        vec4 h = vec4(texelFetch(highlight, texel, 0).rgb, texelFetch(half_color, texel, 0).a);
        if (dot(h.rgb, vec3(1.0)) <= 0.0) continue;
        float radius = abs(h.a) * 0.5;  // full-res px
        float share = smoothstep(SPRITE_HALF_MIN, SPRITE_HALF_FULL, abs(h.a));
        share = half_res == 1 ? share : 1.0 - share;
        if (share <= 0.0) continue;
        // The texel's excess stands for 4 full-res pixels; spread over the
        // aperture's area (full-res px) it keeps its energy. The half-res
        // layers hold the same intensity per full-res px (each of their px
        // stands for four).
        weight = share * 4.0 / max(aperture_area(radius), 0.75);
        sprite = vec4(h.rgb * weight, h.a);
        // Centre on the brightness-weighted centroid of the 2x2 block, so a
        // one-pixel light's disc is not shifted by half a pixel.
        vec3 sum = vec3(0.0);
        for (int j = 0; j < 4; ++j) {
            ivec2 p = min(texel * 2 + ivec2(j & 1, j >> 1), last);
            float w = dot(texelFetch(prepared, p, 0).rgb, LUMA);
            sum += vec3((vec2(p) + 0.5) * w, w);
        }
        centre_px = sum.z > 0.0 ? sum.xy / sum.z : (vec2(texel) + 0.5) * 2.0;
        gl_Position = vec4(centre_px / full_size * 2.0 - 1.0, 0.0, 1.0);
        // the disc plus an anti-aliasing margin, in the target's px
        gl_PointSize = (2.0 * radius + 2.0) / float(1 + half_res);
        EmitVertex();
        EndPrimitive();
    }
}
