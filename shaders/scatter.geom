// Scatter (geometry stage): each highlight texel of a tile becomes a point
// sprite of its CoC diameter; tiles without highlights emit nothing. Drawn
// twice: into the full-res layers (half_res = 0) and the half-res ones, each
// sprite's energy split between them by its size (SPRITE_HALF_MIN..FULL);
// in the half-res layers, from SPRITE_MERGE_MIN..FULL, the sprites of each
// 2x2 texel group merge into one.
#include "dof_common.glsl"

layout(points) in;
layout(points, max_vertices = SPRITES_PER_TILE) out;

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
flat out float rim;       // px over which its edge ramps (scatter.frag)

// The brightness-weighted centroid of the 2x2 block of `texel` (full-res px), so
// a one-pixel light's disc is not shifted by half a pixel.
vec2 light_centre(ivec2 texel, ivec2 last) {
    vec3 sum = vec3(0.0);
    for (int j = 0; j < 4; ++j) {
        ivec2 p = min(texel * 2 + ivec2(j & 1, j >> 1), last);
        float w = dot(texelFetch(prepared, p, 0).rgb, LUMA);
        sum += vec3((vec2(p) + 0.5) * w, w);
    }
    return sum.z > 0.0 ? sum.xy / sum.z : (vec2(texel) + 0.5) * 2.0;
}

// Emits a sprite of `light` (rgb: excess times the share drawn in this layer,
// summed over the texels it stands for; a = signed CoC) and `share` (those
// shares summed), centred at `centre` (full-res px), its edge ramping over
// `edge` px.
void emit_sprite(vec4 light, float share, vec2 centre, float edge) {
    float radius = abs(light.a) * 0.5;  // full-res px
    // A texel's excess stands for 4 full-res pixels; spread over the
    // aperture's area (full-res px) it keeps its energy. The half-res
    // layers hold the same intensity per full-res px (each of their px
    // stands for four).
    float density = 4.0 / max(aperture_area(radius), 0.75);
    weight = share * density;
    sprite = vec4(light.rgb * density, light.a);
    centre_px = centre;
    rim = edge;
    gl_Position = vec4(centre / full_size * 2.0 - 1.0, 0.0, 1.0);
    // the disc and its rim, in the target's px
    gl_PointSize = (2.0 * radius + edge) / float(1 + half_res);
    EmitVertex();
    EndPrimitive();
}

// The share of a texel's excess drawn in this layer: the half-res layers take
// it from SPRITE_HALF_MIN to SPRITE_HALF_FULL, the full-res ones the rest.
float sprite_share(float coc) {
    float share = smoothstep(SPRITE_HALF_MIN, SPRITE_HALF_FULL, abs(coc));
    return half_res == 1 ? share : 1.0 - share;
}

// Of that, the share drawn merged with the rest of its 2x2 texel group (half-res
// layers only), from SPRITE_MERGE_MIN to SPRITE_MERGE_FULL.
float merged_share(float coc) {
    float merged = half_res == 1 ? smoothstep(SPRITE_MERGE_MIN, SPRITE_MERGE_FULL, abs(coc)) : 0.0;
    return sprite_share(coc) * merged;
}

void main() {
    if (texelFetch(tiles, tile[0], 0).z <= 0.0) return;
    ivec2 last_half = textureSize(highlight, 0) - 1;
    ivec2 last = textureSize(prepared, 0) - 1;
    for (int i = 0; i < HALF_TILE_TEXELS; ++i) {
        ivec2 texel = tile[0] * HALF_TILE + ivec2(i % HALF_TILE, i / HALF_TILE);
        if (any(greaterThan(texel, last_half))) continue;
        vec4 h = vec4(texelFetch(highlight, texel, 0).rgb, texelFetch(half_color, texel, 0).a);
        float share = sprite_share(h.a) - merged_share(h.a);
        if (dot(h.rgb, vec3(1.0)) <= 0.0 || share <= 0.0) continue;
        emit_sprite(vec4(h.rgb * share, h.a), share, light_centre(texel, last), SPRITE_RIM);
    }
    if (half_res == 0) return;
    // Merged: one sprite for each 2x2 texel group (4x4 full-res px) that holds
    // highlights, at its texels' energy-weighted centre and CoC. Beside a
    // disc 64 px wide or more, a light's texels lie a pixel or two apart: one
    // disc for the group draws what their overlapping discs drew, to within
    // a pixel at its rim, for a fraction of the pixels (a light often covers
    // several texels). Its edge ramps over the block's width plus twice the
    // spread of the centres (what their discs' offset edges made), at most
    // SPRITE_RIM_MAX. The weights are continuous in each texel's CoC, so a
    // rack moves and grows such a disc smoothly.
    for (int g = 0; g < HALF_TILE_TEXELS / 4; ++g) {
        ivec2 first = tile[0] * HALF_TILE + 2 * ivec2(g % (HALF_TILE / 2), g / (HALF_TILE / 2));
        vec3 light = vec3(0.0);
        float share_sum = 0.0;
        vec4 moments = vec4(0.0);  // energy-weighted centre (xy) and CoC (z); energy (w)
        float square = 0.0;        // energy-weighted squared distance from the origin
        for (int j = 0; j < 4; ++j) {
            ivec2 texel = first + ivec2(j & 1, j >> 1);
            if (any(greaterThan(texel, last_half))) continue;
            vec4 h = vec4(texelFetch(highlight, texel, 0).rgb, texelFetch(half_color, texel, 0).a);
            float share = merged_share(h.a);
            float energy = dot(h.rgb, vec3(1.0)) * share;
            if (energy <= 0.0) continue;
            light += h.rgb * share;
            share_sum += share;
            vec2 centre = light_centre(texel, last) - vec2(first * 2);
            moments += vec4(centre, h.a, 1.0) * energy;
            square += dot(centre, centre) * energy;
        }
        if (moments.w <= 0.0) continue;
        vec2 centre = moments.xy / moments.w;
        // the spread along any one direction: half the variance about the centre
        float spread = sqrt(max(0.5 * (square / moments.w - dot(centre, centre)), 0.0));
        float edge = min(SPRITE_RIM + 2.0 * spread, SPRITE_RIM_MAX);
        emit_sprite(vec4(light, moments.z / moments.w), share_sum, centre + vec2(first * 2), edge);
    }
}
