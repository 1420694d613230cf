// Gather (half resolution): scatter-as-gather over ring kernels, two layers.
//
// Every pixel s is a disc of radius r_s = |coc_s| / 2 (full-res px) holding
// its colour spread evenly, density 1 / (pi r_s^2). The output pixel p sums
// the discs that cover it, estimated from taps on rings: ring k lies at
// radius k * spacing with 8k taps, so every tap stands for the same area
// pi spacing^2 / 4 (the centre tap too).
//
// Kernel l has spacing RING_SPACING * 2^l (kernel 0: one half-res texel) and
// reads pyramid level l (pyramid.frag): at a tap, the box of that size
// centred at the nearest half-res texel corner. No tap skips what lies
// between taps, and what a tap reads moves smoothly with the pixel. A tile
// gathers with the finest kernel whose KERNEL_RINGS rings cover the largest
// radius reaching it (the Dilate pass's), so it pays KERNEL_TAPS at most
// however large its blur; as that radius grows toward the kernel's limit,
// the result cross-fades into the next kernel's (kernels_for), which adds
// that kernel's few taps for the while. Within a kernel the taps sit where they
// sit whatever the tile's radius (rings beyond every disc's reach add
// nothing), so a pixel's result changes only as the discs around it do and
// as the cross-fade moves: no tap jumps from texel to texel while a rack
// moves the CoCs, and no kernel switch pops.
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
//
// Loops, not branches, skip work: a software rasteriser such as llvmpipe
// runs both sides of an `if` for a block of pixels, but leaves a loop once
// every pixel of the block has. So each layer loops over its kernels, one
// or (cross-fading) two, up to MOST_KERNELS: 1 in the program for frames
// whose blur is too small for any tile to cross-fade (the loop unrolls).
// For the same reason no tap reads a table row by its index (an index that
// differs between pixels makes such a rasteriser gather the row pixel by
// pixel): a ring's taps are walked by turning the first one's offset.
#include "dof_common.glsl"

uniform sampler2D half_color;  // Setup target 0: rgb linear, a = signed CoC (full-res px)
uniform sampler2D levels;      // Pyramid: the levels side by side, LEVEL_COLUMNS a row
                               // (half_color itself where the frame needs no level)
uniform int top_level;         // the coarsest level filled (as deep as this frame's blur needs)
uniform sampler2D reach;       // Dilate: .xy = fg and bg radius reaching the tile, .w = nearest CoC around
uniform sampler2D highlight;   // Setup target 1: a = the share of the texel's block at its depth
uniform vec4 ring_walks[KERNEL_RINGS + 1];  // ring k (row 0 unused): its first tap (x, y) in
                                            // spacings, (cos, sin) of the turn to the next
#if POLYGON_APERTURE
uniform float tap_distances[KERNEL_TAPS];  // tap i (centre first, ring by ring): its ring over
                                           // the aperture shape's radius toward the centre
#endif

layout(location = 0) out vec4 foreground;  // Gather target 0 (realtime/passes/gather.py)
layout(location = 1) out vec4 background;  // Gather target 1
layout(location = 2) out float weight;     // Gather target 2

// Kernel `level` over radius `radius` (full-res px) around the half-res
// texel `texel`. Lengths in the loops are in spacings.
struct Kernel {
    int level;
    float spacing;
    float tap_area;  // area each tap stands for, pi spacing^2 / 4
    float to_taps;   // 0.5 / spacing: a CoC diameter (full-res px) to a radius in spacings
    float density;   // aperture area / tap_area of a disc of radius 1 spacing
    int rings;
    // where in `levels` a tap at offset o (half-res texels) reads:
    // texel + floor(snap + o), kept within [low, high] (the level's texels;
    // texel is the pixel's own in the level). At level 0 that is the texel
    // the tap falls in, above it the one whose box is centred nearest to the
    // tap (snap half a texel more).
    ivec2 texel;
    float snap;
    ivec2 low;
    ivec2 high;
};

Kernel kernel_at(int level, float radius, ivec2 texel) {
    Kernel k;
    k.level = level;
    k.spacing = RING_SPACING * float(1 << level);
    k.tap_area = 0.25 * PI * k.spacing * k.spacing;
    k.to_taps = 0.5 / k.spacing;
    k.density = aperture_area(1.0) / (0.25 * PI);
    // A tap on ring k stands for the annulus k * spacing +- spacing / 2, so
    // ring k matters only if some disc reaches past its inner edge.
    k.rings = clamp(int(ceil(radius / k.spacing - 0.5)), 1, KERNEL_RINGS);
    ivec2 size = textureSize(half_color, 0);
    k.low = ivec2(level % LEVEL_COLUMNS, level / LEVEL_COLUMNS) * size;
    k.high = k.low + size - 1;
    k.texel = k.low + texel;
    // Above level 0 a tap on an axis lies halfway between two boxes, and
    // turning (below) leaves its offset a few ulps to either side: TAP_TIE
    // settles such ties one way, toward the higher texel, the same in every
    // window of a tiled render.
    k.snap = (level == 0 ? 0.5 : 1.0) + TAP_TIE;
    return k;
}

// Ring `ring` of kernel k, walked tap by tap: 8 ring taps at radius `ring`
// spacings, each the one before turned by the ring's step. A tap's distance
// from the centre in aperture-shape radii (a disc covers the centre when it
// is at most the disc's radius, in spacings) is its ring on a circular
// aperture: the loops work out what depends on it once a ring. On a polygon
// every tap has its own (tap_distances): the loops work it out again tap by
// tap (POLYGON_APERTURE).
struct Ring {
    vec2 offset;  // the tap's offset from the pixel, half-res texels (2 full-res px each)
    vec2 turn;    // (cos, sin) of the step
    int taps;
    int first;    // the first tap's index in tap_distances
};

Ring ring_of(Kernel k, int ring) {
    vec4 walk = ring_walks[ring];
    return Ring(walk.xy * (0.5 * k.spacing), walk.zw, 8 * ring, KERNEL_TAPS_BY_RINGS[ring - 1]);
}

vec2 next_offset(Ring r) {
    return vec2(r.offset.x * r.turn.x - r.offset.y * r.turn.y, r.offset.x * r.turn.y + r.offset.y * r.turn.x);
}

// The texel of `levels` a tap at `offset` reads.
ivec2 tap_at(Kernel k, vec2 offset) {
    return clamp(k.texel + ivec2(floor(k.snap + offset)), k.low, k.high);
}

// The kernels a tile of radius `radius` gathers with: `first`, the finest
// whose rings cover it (KERNEL_RINGS rings cover up to KERNEL_RINGS + 0.5
// spacings), cross-faded into the next over the last KERNEL_BLEND of an
// octave of radius before `first` stops covering: `blend` of the result
// (0 to 1) comes from kernel first + 1. Where `first` moves up, the blend
// has handed all over to it: the result is continuous in the radius.
// pyramid.py's kernels_for restates this (levels_needed, cross_fades).
struct Kernels {
    int first;
    float blend;
};

Kernels kernels_for(float radius) {
    // octaves above the radius kernel 0 covers; kernel ceil(c) is the finest covering
    float c = log2(max(radius, 1e-6) / ((float(KERNEL_RINGS) + 0.5) * RING_SPACING));
    Kernels ks;
    ks.first = clamp(int(ceil(c)), 0, top_level);
    ks.blend = ks.first < top_level ? smoothstep(1.0 - KERNEL_BLEND, 1.0, c - float(ks.first - 1)) : 0.0;
    return ks;
}

// Foreground at p by kernel k: premultiplied colour and coverage.
vec4 gather_foreground(Kernel k, vec4 centre, float centre_share) {
    float r = 0.5 * abs(centre.a) / k.spacing;  // radii in spacings from here on
    // a tap covers tap_area / disc area of p (at most all of it); the centre
    // tap is the pixel itself, never a box around it
    vec4 fg = vec4(centre.rgb, 1.0) * (centre_share * fg_share(centre.a) * clamp(r + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0));
    for (int ring = 1; ring <= k.rings; ++ring) {
        Ring walk = ring_of(k, ring);
        float z = float(ring);
        for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
            z = tap_distances[walk.first + j];
#endif
            ivec2 at = tap_at(k, walk.offset);
            walk.offset = next_offset(walk);
            vec4 s = texelFetch(levels, at, 0);
            // at half res a texel on a silhouette keeps the nearest CoC of its
            // block: its disc counts by the share of the block at that depth
            // (level 0 lies at the origin of `levels`)
            float share = 1.0;
            if (k.level == 0) share = texelFetch(highlight, at, 0).a;
            r = abs(s.a) * k.to_taps;
            float cover = clamp(r - z + 0.5, 0.0, 1.0);
            fg += vec4(s.rgb, 1.0) * (share * fg_share(s.a) * cover / max(k.density * r * r, 1.0));
        }
    }
    return fg;
}

// Background at p by kernel k, per unit of disc area: the weighted colour sum
// (.sum) and the weight a background like p's own would have where the
// foreground layer covers it (.hidden): the foreground hides what lies there,
// which the normalised sum stands in for, and the composite scales lights by it.
struct Background {
    vec4 sum;
    float hidden;
};

Background gather_background(Kernel k, vec4 centre, bool near_discs) {
    float centre_r = hidden_reach(centre.a) / k.spacing;  // radii in spacings from here on
    float own = 0.5 * abs(centre.a) / k.spacing;
    float hole = HOLE_WEIGHT * hole_share(centre.a) * k.tap_area;
    // weights per unit of disc area, times tap_area while summing (the same for every tap)
    float f = fg_share(centre.a);
    float own_w = 1.0 / max(k.density * own * own, 1.0);
    float w = clamp(own + 0.5, 0.0, 1.0) * own_w;
    vec4 bg = vec4(centre.rgb, 1.0) * ((1.0 - f) * (w + hole));
    float hidden = f * w;
    if (near_discs) {
        for (int ring = 1; ring <= k.rings; ++ring) {
            Ring walk = ring_of(k, ring);
            float z = float(ring);
            float within = clamp(own - z + 0.5, 0.0, 1.0);  // of p's own disc
            for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
                z = tap_distances[walk.first + j];
                within = clamp(own - z + 0.5, 0.0, 1.0);
#endif
                vec4 s = texelFetch(levels, tap_at(k, walk.offset), 0);
                walk.offset = next_offset(walk);
                float r = abs(s.a) * k.to_taps;
                float reach_r = s.a <= centre.a ? r : min(r, centre_r);
                f = fg_share(s.a);
                w = clamp(reach_r - z + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0);
                bg += vec4(s.rgb, 1.0) * ((1.0 - f) * (w + hole * within));
                hidden += f * within * own_w;
            }
        }
    } else {
        // no near disc within the kernel (fg_share is 0 for every sample): the same
        // sum without the foreground's terms, for less
        for (int ring = 1; ring <= k.rings; ++ring) {
            Ring walk = ring_of(k, ring);
            float z = float(ring);
            float within_hole = hole * clamp(own - z + 0.5, 0.0, 1.0);
            for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
                z = tap_distances[walk.first + j];
                within_hole = hole * clamp(own - z + 0.5, 0.0, 1.0);
#endif
                vec4 s = texelFetch(levels, tap_at(k, walk.offset), 0);
                walk.offset = next_offset(walk);
                float r = abs(s.a) * k.to_taps;
                float reach_r = s.a <= centre.a ? r : min(r, centre_r);
                w = clamp(reach_r - z + 0.5, 0.0, 1.0) / max(k.density * r * r, 1.0);
                bg += vec4(s.rgb, 1.0) * (w + within_hole);
            }
        }
    }
    return Background(bg / k.tap_area, hidden / k.tap_area);
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

    // Foreground: only where a near disc reaches (fg_share is 0 for discs
    // smaller than LAYER_MIN_COC, so a smaller radius gathers nothing).
    vec4 fg = vec4(0.0);
    Kernels ks = kernels_for(tile_reach.x);
    int kernels = tile_reach.x > 0.5 * LAYER_MIN_COC ? (ks.blend > 0.0 ? MOST_KERNELS : 1) : 0;
    float centre_share = texelFetch(highlight, texel, 0).a;
    for (int i = 0; i < min(kernels, MOST_KERNELS); ++i) {
        vec4 one = gather_foreground(kernel_at(ks.first + i, tile_reach.x, texel), centre, centre_share);
        fg += one * (i == 0 ? 1.0 - ks.blend : ks.blend);
    }

    // Background, normalised.
    bool near_discs = tile.w < -LAYER_MIN_COC;
    ks = kernels_for(tile_reach.y);
    Background bg = Background(vec4(0.0), 0.0);
    for (int i = 0; i < (ks.blend > 0.0 ? MOST_KERNELS : 1); ++i) {
        Background one = gather_background(kernel_at(ks.first + i, tile_reach.y, texel), centre, near_discs);
        float share = i == 0 ? 1.0 - ks.blend : ks.blend;
        bg.sum += one.sum * share;
        bg.hidden += one.hidden * share;
    }

    // Coverage is capped at 1. A foreground pixel with no background anywhere
    // in reach has nothing to show through it: its layer is opaque (a sparse
    // kernel only estimates its coverage); the first background weight within
    // reach (HOLE_WEIGHT) lets it show through.
    float opaque = fg_share(centre.a) * (1.0 - clamp(bg.sum.a / HOLE_WEIGHT, 0.0, 1.0));
    float alpha = max(min(fg.a, 1.0), opaque);
    foreground = fg.a > 0.0 ? vec4(fg.rgb * (alpha / fg.a), alpha) : vec4(0.0);
    // Where no background sample reaches, the centre's own colour (the limit
    // of the normalised sum as its weight goes to 0).
    background = vec4((bg.sum.rgb + centre.rgb * 1e-9) / (bg.sum.a + 1e-9), centre.a);
    weight = bg.sum.a / (bg.sum.a + bg.hidden + 1e-9);  // the share of what reaches p left visible
}
