// Gather (half resolution): scatter-as-gather over a ring kernel, two layers.
//
// Every pixel s is a disc of radius r_s = |coc_s| / 2 (full-res px) holding
// its colour spread evenly, density 1 / (pi r_s^2). The output pixel p sums
// the discs that cover it, estimated from taps on KERNEL rings: ring k of K
// lies at radius k R / K with 8k taps, so every tap stands for the same area
// pi (R / K)^2 / 4 (the centre tap too).
//
// Foreground layer (CoC < -SLIGHT_COC: nearer than the focal plane by more
// than the full-res slight-focus band of composite.frag resolves): partial
// occlusion. Each tap that reaches p adds coverage a = tap_area / disc area;
// the sum is the foreground's alpha at p, premultiplied colour alongside.
// It covers both sharp and blurred pixels behind it.
//
// Background layer (everything else), normalised: a sample nearer than p
// spreads by its own radius; a sample farther than p is hidden by p's own
// surface beyond p's radius, so it reaches only min(r_s, r_p). A sharp
// subject therefore neither leaks into the blur behind it nor receives it.
// Where p is foreground the background behind it is unseen: every background
// sample nearby fills it (hole fill), weighted by its reach.
#include "dof_common.glsl"

uniform sampler2D half_color;  // Setup target 0: rgb linear, a = signed CoC (full-res px)
uniform sampler2D reach;       // Dilate: .xy = fg and bg radius reaching the tile
uniform vec4 ring_taps[KERNEL_TAPS];  // unit direction (x, y), ring index, 1 / aperture-shape radius

layout(location = 0) out vec4 foreground;  // Gather target 0 (realtime/passes/gather.py)
layout(location = 1) out vec4 background;  // Gather target 1

void main() {
    ivec2 texel = ivec2(gl_FragCoord.xy);
    vec4 centre = texelFetch(half_color, texel, 0);
    vec2 tile_reach = texelFetch(reach, texel / HALF_TILE, 0).xy;
    if (copy_tile(tile_reach)) {
        foreground = vec4(0.0);
        background = centre;
        return;
    }
    float radius = max(tile_reach.x, tile_reach.y);  // largest blur radius reaching the tile
    // Rings in use: enough that taps are about RING_SPACING full-res px apart.
    int rings = clamp(int(ceil(radius / RING_SPACING)), 1, KERNEL_RINGS);
    float spacing = radius / float(rings);
    float tap_area = 0.25 * PI * spacing * spacing;  // area each tap stands for
    vec2 texel_size = 1.0 / vec2(textureSize(half_color, 0));
    vec2 centre_uv = (vec2(texel) + 0.5) * texel_size;
    bool centre_fg = centre.a < -SLIGHT_COC;
    float centre_r = centre_fg ? MAX_COC : max(centre.a, 0.0) * 0.5;

    float shape = aperture_area(1.0);  // area of a unit aperture, hoisted out of the loop
    float hole = centre_fg ? HOLE_WEIGHT : 0.0;

    vec4 fg = vec4(0.0);
    vec4 bg = vec4(0.0);
    int taps = KERNEL_TAPS_BY_RINGS[rings];
    for (int i = 0; i < taps; ++i) {
        vec4 tap = ring_taps[i];
        float ring_r = tap.z * spacing;  // full-res px
        vec4 s = textureLod(half_color, centre_uv + (0.5 * ring_r) * tap.xy * texel_size, 0.0);
        float d = ring_r * tap.w;  // distance in units of the aperture shape's radius
        float r = abs(s.a) * 0.5;
        bool front = s.a < -SLIGHT_COC;
        float reach_r = (front || s.a <= centre.a) ? r : min(r, centre_r);
        float cover = clamp((reach_r - d) / spacing + 0.5, 0.0, 1.0);
        // Per unit of disc area: a foreground tap covers tap_area / disc area
        // of p (at most all of it); background taps are normalised later.
        float w = cover / max(shape * r * r, tap_area);
        fg += front ? vec4(s.rgb, 1.0) * (w * tap_area) : vec4(0.0);
        bg += front ? vec4(0.0) : vec4(s.rgb, 1.0) * (w + hole);
    }
    // Coverage is capped at 1. A foreground pixel with no background anywhere
    // in reach has nothing to show through it: its layer is opaque (a sparse
    // kernel only estimates its coverage).
    float alpha = (centre_fg && bg.a == 0.0) ? 1.0 : min(fg.a, 1.0);
    foreground = fg.a > 0.0 ? vec4(fg.rgb * (alpha / fg.a), alpha) : vec4(0.0);
    background = vec4(bg.a > 0.0 ? bg.rgb / bg.a : centre.rgb, centre.a);
}
