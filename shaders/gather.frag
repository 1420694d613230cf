// Gather (half resolution): scatter-as-gather over a ring kernel, two layers.
//
// Every pixel s is a disc of radius r_s = |coc_s| / 2 (full-res px) holding
// its colour spread evenly, density 1 / (pi r_s^2). The output pixel p sums
// the discs that cover it, estimated from taps on rings: ring k lies at
// radius k * spacing with 8k taps, so every tap stands for the same area
// pi spacing^2 / 4 (the centre tap too). The spacing is RING_SPACING until
// KERNEL_RINGS rings no longer cover the largest radius reaching the tile;
// then it grows with that radius. While it is fixed, the taps sit where they
// sit whatever the tile's radius: rings beyond every disc's reach add
// nothing, so a pixel's result does not change when its tile's radius does.
//
// Foreground layer (discs nearer than the focal plane, in the share
// fg_share(coc) of dof_common.glsl: all of a disc from -SLIGHT_COC, none
// above -LAYER_MIN_COC, the rest drawn by the full-res slight-focus resolve
// of composite.frag): partial occlusion. Each tap that reaches p adds
// coverage a = tap_area / disc area; the sum is the foreground's alpha at p,
// premultiplied colour alongside. It covers sharp and blurred pixels behind it.
//
// Background layer (the rest of every disc), normalised: a sample nearer
// than p spreads by its own radius; a sample farther than p is hidden by p's
// own surface beyond hidden_reach(coc_p). A sharp subject therefore neither
// leaks into the blur behind it nor receives it. Where p is foreground the
// background behind it is unseen: background samples within p's own radius
// fill it (hole fill), each with a small weight.
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
    // Taps RING_SPACING apart while KERNEL_RINGS rings cover the radius, then
    // farther. A tap on ring k stands for the annulus k * spacing +- spacing / 2,
    // so ring k matters only if some disc reaches past its inner edge.
    float spacing = max(RING_SPACING, radius / float(KERNEL_RINGS));
    int rings = clamp(int(ceil(radius / spacing - 0.5)), 1, KERNEL_RINGS);
    float tap_area = 0.25 * PI * spacing * spacing;  // area each tap stands for
    vec2 texel_size = 1.0 / vec2(textureSize(half_color, 0));
    vec2 centre_uv = (vec2(texel) + 0.5) * texel_size;
    float centre_r = hidden_reach(centre.a);
    float own_r = 0.5 * abs(centre.a);
    float hole = HOLE_WEIGHT * hole_share(centre.a);

    float shape = aperture_area(1.0);  // area of a unit aperture, hoisted out of the loop
    vec4 fg = vec4(0.0);
    vec4 bg = vec4(0.0);
    int taps = KERNEL_TAPS_BY_RINGS[rings];
    for (int i = 0; i < taps; ++i) {
        vec4 tap = ring_taps[i];
        float ring_r = tap.z * spacing;  // full-res px
        vec4 s = textureLod(half_color, centre_uv + (0.5 * ring_r) * tap.xy * texel_size, 0.0);
        float d = ring_r * tap.w;  // distance in units of the aperture shape's radius
        float r = abs(s.a) * 0.5;
        float front = fg_share(s.a);
        float reach_bg = s.a <= centre.a ? r : min(r, centre_r);
        float cover_fg = clamp((r - d) / spacing + 0.5, 0.0, 1.0);
        float cover_bg = clamp((reach_bg - d) / spacing + 0.5, 0.0, 1.0);
        float hole_w = hole * clamp((own_r - d) / spacing + 0.5, 0.0, 1.0);
        // Per unit of disc area: a foreground tap covers tap_area / disc area
        // of p (at most all of it); background taps are normalised later.
        float density = 1.0 / max(shape * r * r, tap_area);
        fg += vec4(s.rgb, 1.0) * (front * cover_fg * density * tap_area);
        bg += vec4(s.rgb, 1.0) * ((1.0 - front) * (cover_bg * density + hole_w));
    }
    // Coverage is capped at 1. A foreground pixel with no background anywhere
    // in reach has nothing to show through it: its layer is opaque (a sparse
    // kernel only estimates its coverage); the first background weight within
    // reach (HOLE_WEIGHT) lets it show through.
    float opaque = fg_share(centre.a) * (1.0 - clamp(bg.a / HOLE_WEIGHT, 0.0, 1.0));
    float alpha = max(min(fg.a, 1.0), opaque);
    foreground = fg.a > 0.0 ? vec4(fg.rgb * (alpha / fg.a), alpha) : vec4(0.0);
    // Where no background sample reaches, the centre's own colour (the limit
    // of the normalised sum as its weight goes to 0).
    background = vec4((bg.rgb + centre.rgb * 1e-9) / (bg.a + 1e-9), centre.a);
}
