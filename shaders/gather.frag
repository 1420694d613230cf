// Gather (half resolution): scatter-as-gather over a ring kernel, two layers.
//
// Every pixel s is a disc of radius r_s = |coc_s| / 2 (full-res px) holding
// its colour spread evenly, density 1 / (pi r_s^2). The output pixel p sums
// the discs that cover it, estimated from taps on rings: ring k lies at
// radius k * spacing with 8k taps, so every tap stands for the same area
// pi spacing^2 / 4 (the centre tap too) and reads a texel of about that size
// from the pyramid (pyramid.frag): level l holds texels of 2^(l+1) full-res
// px, each the mean of what lies under it, so no tap skips what lies between
// taps. The spacing is RING_SPACING (one half-res texel) until KERNEL_RINGS
// rings no longer cover the largest radius reaching the tile; then it grows
// with that radius, and the taps move up the pyramid, so a tile pays the
// same KERNEL_TAPS at most however large its blur. While the spacing is
// fixed the taps sit where they sit whatever the tile's radius: rings beyond
// every disc's reach add nothing, so a pixel's result does not change when
// its tile's radius does.
//
// The two layers gather separately, each over the radius that can reach it
// (the Dilate pass's fg and bg radii), so a sharp near disc beside a wide
// background blur keeps a fine kernel.
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

uniform sampler2D half_color;  // Setup target 0: rgb linear, a = signed CoC (full-res px);
                               // levels 1..PYRAMID_LEVELS: Pyramid (2x2, 4x4, ... texels)
uniform int top_level;         // the coarsest level filled (as deep as this frame's blur needs)
uniform sampler2D reach;       // Dilate: .xy = fg and bg radius reaching the tile, .w = nearest CoC around
uniform sampler2D highlight;   // Setup target 1: a = the share of the texel's block at its depth
uniform vec4 ring_taps[KERNEL_TAPS];  // in ring spacings: offset (x, y), distance in aperture-shape radii, ring

layout(location = 0) out vec4 foreground;  // Gather target 0 (realtime/passes/gather.py)
layout(location = 1) out vec4 background;  // Gather target 1
layout(location = 2) out float weight;     // Gather target 2

// A kernel over radius `radius`: its spacing (full-res px), taps and pyramid
// level: the largest whose texels are no larger than the spacing (`round` 0,
// the foreground's) or, for the background (BACKGROUND_LEVEL_ROUND), up to
// 2^0.75 times larger, which smooths a wide blur more than it blurs the edges
// within it (measured on the bench's scene). Lengths in the loops are in spacings.
struct Kernel {
    float spacing;
    float tap_area;  // area each tap stands for, pi spacing^2 / 4
    float to_taps;   // 0.5 / spacing: a CoC diameter (full-res px) to a radius in spacings
    float density;   // aperture area / tap_area of a disc of radius 1 spacing
    int taps;
    int level;
    vec2 step;       // a ring spacing in texels of the level
    ivec2 last;      // the level's last texel
};

Kernel kernel_for(float radius, float round) {
    Kernel k;
    // A tap on ring k stands for the annulus k * spacing +- spacing / 2, so
    // ring k matters only if some disc reaches past its inner edge.
    k.spacing = max(RING_SPACING, radius / float(KERNEL_RINGS));
    k.tap_area = 0.25 * PI * k.spacing * k.spacing;
    k.to_taps = 0.5 / k.spacing;
    k.density = aperture_area(1.0) / (0.25 * PI);
    k.taps = KERNEL_TAPS_BY_RINGS[clamp(int(ceil(radius / k.spacing - 0.5)), 1, KERNEL_RINGS)];
    k.level = clamp(int(floor(log2(k.spacing / RING_SPACING) + round)), 0, top_level);
    float scale = 1.0 / float(1 << k.level);  // half-res texels to level texels
    k.step = vec2(0.5 * k.spacing * scale);  // a spacing is spacing / 2 half-res texels
    k.last = textureSize(half_color, k.level) - 1;
    return k;
}

// The texel of tap `tap` (a ring_taps row) of kernel k around `centre`, the
// half-res position of the pixel in texels of the kernel's level.
vec4 tap_texel(Kernel k, vec4 tap, vec2 centre) {
    return texelFetch(half_color, clamp(ivec2(floor(centre + tap.xy * k.step)), ivec2(0), k.last), k.level);
}

void main() {
    ivec2 texel = ivec2(gl_FragCoord.xy);
    vec4 centre = texelFetch(half_color, texel, 0);
    vec4 tile = texelFetch(reach, texel / HALF_TILE, 0);
    vec2 tile_reach = tile.xy;
    if (copy_tile(tile_reach)) {
        foreground = vec4(0.0);
        background = centre;
        weight = 1.0;
        return;
    }
    vec2 centre_pos = vec2(texel) + 0.5;  // half-res texels
    float own_r = 0.5 * abs(centre.a);  // full-res px

    // Foreground: only where a near disc reaches (fg_share is 0 for discs
    // smaller than LAYER_MIN_COC, so a smaller radius gathers nothing). The
    // centre tap is the pixel itself, never a coarse texel around it.
    vec4 fg = vec4(0.0);
    if (tile_reach.x > 0.5 * LAYER_MIN_COC) {
        Kernel k = kernel_for(tile_reach.x, 0.0);
        vec2 centre_at = centre_pos * (k.step / (0.5 * k.spacing));
        float r = own_r / k.spacing;  // radii in spacings from here on
        // a tap covers tap_area / disc area of p (at most all of it)
        float share = texelFetch(highlight, texel, 0).a;
        fg = vec4(centre.rgb, 1.0) * (share * fg_share(centre.a) * clamp(r + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0));
        for (int i = 1; i < k.taps; ++i) {
            vec4 tap = ring_taps[i];
            vec4 s = tap_texel(k, tap, centre_at);
            // at half res a texel on a silhouette keeps the nearest CoC of its
            // block: its disc counts by the share of the block at that depth
            float share = 1.0;
            if (k.level == 0) share = texelFetch(highlight, clamp(ivec2(floor(centre_at + tap.xy * k.step)), ivec2(0), k.last), 0).a;
            r = abs(s.a) * k.to_taps;
            float cover = clamp(r - tap.z + 0.5, 0.0, 1.0);
            fg += vec4(s.rgb, 1.0) * (share * fg_share(s.a) * cover / max(k.density * r * r, 1.0));
        }
    }

    // Background, normalised: weights per unit of disc area, times tap_area
    // while summing (the same for every tap).
    Kernel k = kernel_for(tile_reach.y, BACKGROUND_LEVEL_ROUND);
    vec2 centre_at = centre_pos * (k.step / (0.5 * k.spacing));
    float centre_r = hidden_reach(centre.a) / k.spacing;  // radii in spacings from here on
    float own = own_r / k.spacing;
    float hole = HOLE_WEIGHT * hole_share(centre.a) * k.tap_area;
    // `hidden`: the weight a background like p's own would have where the
    // foreground layer covers it: the foreground hides what lies there, which
    // the normalised sum stands in for, and the composite scales lights by it.
    float f = fg_share(centre.a);
    float own_w = 1.0 / max(k.density * own * own, 1.0);
    float w = clamp(own + 0.5, 0.0, 1.0) * own_w;
    vec4 bg = vec4(centre.rgb, 1.0) * ((1.0 - f) * (w + hole));
    float hidden = f * w;
    if (tile.w < -LAYER_MIN_COC) {
        for (int i = 1; i < k.taps; ++i) {
            vec4 tap = ring_taps[i];
            vec4 s = tap_texel(k, tap, centre_at);
            float r = abs(s.a) * k.to_taps;
            float reach_r = s.a <= centre.a ? r : min(r, centre_r);
            f = fg_share(s.a);
            w = clamp(reach_r - tap.z + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0);
            float within = clamp(own - tap.z + 0.5, 0.0, 1.0);  // of p's own disc
            bg += vec4(s.rgb, 1.0) * ((1.0 - f) * (w + hole * within));
            hidden += f * within * own_w;
        }
    } else {
        // no near disc within the kernel (fg_share is 0 for every sample): the same
        // sum without the foreground's terms, for less
        for (int i = 1; i < k.taps; ++i) {
            vec4 tap = ring_taps[i];
            vec4 s = tap_texel(k, tap, centre_at);
            float r = abs(s.a) * k.to_taps;
            float reach_r = s.a <= centre.a ? r : min(r, centre_r);
            w = clamp(reach_r - tap.z + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0);
            bg += vec4(s.rgb, 1.0) * (w + hole * clamp(own - tap.z + 0.5, 0.0, 1.0));
        }
    }
    bg /= k.tap_area;  // per unit of disc area (the opaque test below compares with HOLE_WEIGHT)

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
    weight = bg.a / (bg.a + hidden / k.tap_area + 1e-9);  // the share of what reaches p left visible
}
