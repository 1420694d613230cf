// Gather (half resolution): scatter-as-gather over a nested ring kernel, two layers.
//
// Every pixel s is a disc of radius r_s = |coc_s| / 2 (full-res px) holding
// its colour spread evenly, density 1 / (pi r_s^2). The output pixel p sums
// the discs that cover it, estimated from taps on rings: each tap stands for
// a piece of an annulus around p and adds its colour by the share of the
// disc that piece holds where the disc covers it.
//
// The kernel is nested, fine near p and coarse far from it. Level 0 has
// KERNEL_RINGS rings at RING_SPACING (one half-res texel) apart, ring k with
// 8k taps on the annulus k +- 1/2 spacings, reading half-res texels. Level l
// has spacing RING_SPACING * 2^l and reads pyramid level l (pyramid.frag): at
// a tap, the box of that size centred at the nearest half-res texel corner;
// it keeps the rings beyond where level l - 1 ends (OUTER_START of its own
// spacings; the first ring cut to start there), with OUTER_TAPS k taps on
// ring k (constants.level_rings). A disc
// that reaches p from a distance d is at least d in radius, so the taps that
// read it are never coarser than about d / 2: a 10 px disc next to p is read
// from 2 px texels whatever else reaches p, and a 100 px one from 32 px boxes.
// A tile reads the levels and rings some disc reaching it can reach (the
// Dilate pass's largest radius): a ring beyond every disc's reach adds
// nothing, and as the radius grows a level's rings join at the edge where
// their cover is 0, so no ring added while a rack moves the CoCs pops. Taps
// sit where they sit whatever the tile's radius, so a pixel's result changes
// only as the discs around it do.
//
// The two layers gather separately, each over the radius that can reach it
// (the Dilate pass's fg and bg radii).
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
// every pixel of the block has. For the same reason no tap reads a table row
// by its index (an index that differs between pixels makes such a rasteriser
// gather the row pixel by pixel): a ring's taps are walked by turning the
// first one's offset.
#include "dof_common.glsl"

uniform sampler2D half_color;  // Setup target 0: rgb linear, a = signed CoC (full-res px)
uniform sampler2D levels;      // Pyramid: the levels side by side, LEVEL_COLUMNS a row
                               // (half_color itself where the frame needs no level)
uniform int top_level;         // the coarsest level filled (as deep as this frame's blur needs)
uniform sampler2D reach;       // Dilate: .xy = fg and bg radius reaching the tile, .w = nearest CoC around
uniform sampler2D highlight;   // Setup target 1: a = the share of the texel's block at its depth
uniform vec4 ring_walks[KERNEL_RINGS + OUTER_RINGS];  // kernel.ring_rows: level 0's rings, then the
                                                     // coarser levels': first tap (x, y) in spacings,
                                                     // (cos, sin) of the turn to the next
uniform vec4 ring_spans[KERNEL_RINGS + OUTER_RINGS];  // the same rows: annulus (inner, outer) in
                                                     // spacings, area per tap (spacings^2), taps
#if POLYGON_APERTURE
uniform float tap_scales[KERNEL_TAPS];  // tap i (centre first, ring by ring): 1 / the aperture
                                        // shape's radius toward the centre (kernel.tap_scales)
#endif

layout(location = 0) out vec4 foreground;  // Gather target 0 (realtime/passes/gather.py)
layout(location = 1) out vec4 background;  // Gather target 1
layout(location = 2) out float weight;     // Gather target 2

// Level `level` of the kernel around the half-res texel `texel`.
struct Level {
    int level;
    float spacing;  // full-res px
    float to_taps;  // 0.5 / spacing: a CoC diameter (full-res px) to a radius in spacings
    int first_row;  // its first ring's row in ring_walks and ring_spans
    int rows;
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

Level level_at(int level, ivec2 texel) {
    Level lv;
    lv.level = level;
    lv.spacing = RING_SPACING * float(1 << level);
    lv.to_taps = 0.5 / lv.spacing;
    lv.first_row = level == 0 ? 0 : KERNEL_RINGS;
    lv.rows = level == 0 ? KERNEL_RINGS : OUTER_RINGS;
    ivec2 size = textureSize(half_color, 0);
    lv.low = ivec2(level % LEVEL_COLUMNS, level / LEVEL_COLUMNS) * size;
    lv.high = lv.low + size - 1;
    lv.texel = lv.low + texel;
    // Above level 0 a tap on an axis lies halfway between two boxes, and
    // turning (below) leaves its offset a few ulps to either side: TAP_TIE
    // settles such ties one way, toward the higher texel, the same in every
    // window of a tiled render.
    lv.snap = (level == 0 ? 0.5 : 1.0) + TAP_TIE;
    return lv;
}

// Whether level `level` has a ring some disc of radius `radius` (full-res px)
// reaches: level 0 always, level l from OUTER_START of its spacings.
bool level_reached(int level, float radius) {
    return level == 0 || radius > OUTER_START * RING_SPACING * float(1 << level);
}

// One ring row of a level, walked tap by tap: each tap the one before turned
// by the ring's step. On a circular aperture a tap's annulus in aperture
// radii is the ring's; on a polygon it is scaled tap by tap (tap_scales).
struct Ring {
    vec2 offset;  // the tap's offset from the pixel, half-res texels (2 full-res px each)
    vec2 turn;    // (cos, sin) of the step
    vec2 span;    // the annulus (inner, outer), spacings
    float area;   // area each tap stands for, spacings^2
    int taps;
    int first;    // the first tap's index in tap_scales
};

Ring ring_of(Level lv, int row, int first) {
    vec4 walk = ring_walks[row];
    vec4 span = ring_spans[row];
    return Ring(walk.xy * (0.5 * lv.spacing), walk.zw, span.xy, span.z, int(span.w), first);
}

vec2 next_offset(Ring r) {
    return vec2(r.offset.x * r.turn.x - r.offset.y * r.turn.y, r.offset.x * r.turn.y + r.offset.y * r.turn.x);
}

// The texel of `levels` a tap at `offset` reads.
ivec2 tap_at(Level lv, vec2 offset) {
    return clamp(lv.texel + ivec2(floor(lv.snap + offset)), lv.low, lv.high);
}

// How much of an annulus `span` (spacings) a disc of radius r (spacings)
// covers, as a ramp across it: 0 at its inner edge, 1 at its outer.
float cover(float r, vec2 span) {
    return clamp((r - span.x) / (span.y - span.x), 0.0, 1.0);
}

// The share of a disc of radius r (spacings; aperture area `shape` r^2) that
// a tap standing for `area` holds where `covered` of it lies in the disc. A
// disc smaller than the tap's area gives it all it has.
float disc_share(float r, float covered, float area, float shape) {
    return covered * area / max(shape * r * r, area);
}

// The foreground that the rings of level `lv` reaching `radius` add: each tap's
// premultiplied colour by the share of its disc it holds. `level0`, a constant
// where it is called, keeps the highlight texture's fetch out of the coarser
// levels' loops.
vec4 foreground_rings(Level lv, float radius, float shape, bool level0) {
    vec4 fg = vec4(0.0);
    // the first tap's index in tap_scales: level 0's after the centre's; every coarser
    // level repeats the same rings, after level 0's
    int first = level0 ? 1 : LEVEL0_TAPS;
    for (int row = 0; row < lv.rows; ++row) {
        Ring walk = ring_of(lv, lv.first_row + row, first);
        first += walk.taps;
        // a ring matters only if some disc reaches past its inner edge
        if (radius <= walk.span.x * lv.spacing) break;
        vec2 span = walk.span;
        for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
            span = walk.span * tap_scales[walk.first + j];
#endif
            ivec2 at = tap_at(lv, walk.offset);
            walk.offset = next_offset(walk);
            vec4 s = texelFetch(levels, at, 0);
            // at half res a texel on a silhouette keeps the nearest CoC of its
            // block: its disc counts by the share of the block at that depth
            // (level 0 lies at the origin of `levels`)
            float share = level0 ? texelFetch(highlight, at, 0).a : 1.0;
            float r = abs(s.a) * lv.to_taps;
            fg += vec4(s.rgb, 1.0) * (share * fg_share(s.a) * disc_share(r, cover(r, span), walk.area, shape));
        }
    }
    return fg;
}

// Foreground at p: premultiplied colour and coverage.
vec4 gather_foreground(ivec2 texel, float radius, vec4 centre, float centre_share) {
    float shape = aperture_area(1.0);
    // the centre tap is the pixel itself, never a box around it
    float r = 0.5 * abs(centre.a) / RING_SPACING;
    vec4 fg = vec4(centre.rgb, 1.0) * (centre_share * fg_share(centre.a) * disc_share(r, clamp(r + 0.5, 0.0, 1.0), CENTRE_TAP_AREA, shape));
    fg += foreground_rings(level_at(0, texel), radius, shape, true);
    for (int level = 1; level <= top_level; ++level) {
        if (!level_reached(level, radius)) break;
        fg += foreground_rings(level_at(level, texel), radius, shape, false);
    }
    return fg;
}

// Background at p, per unit of area (divided by the level-0 tap's area in
// full-res px^2, so a sum reads as before the kernel was nested): the
// weighted colour sum (.sum) and the weight a background like p's own would
// have where the foreground layer covers it (.hidden): the foreground hides
// what lies there, which the normalised sum stands in for, and the composite
// scales lights by it.
struct Background {
    vec4 sum;
    float hidden;
};

Background gather_background(ivec2 texel, float radius, vec4 centre, bool near_discs) {
    float shape = aperture_area(1.0);
    float reach_px = hidden_reach(centre.a);
    float own_px = 0.5 * abs(centre.a);
    // hole fill: every background sample within p's own disc, by its area (px^2)
    float hole = HOLE_WEIGHT * hole_share(centre.a);
    float unit = CENTRE_TAP_AREA * RING_SPACING * RING_SPACING;  // the level-0 tap's area, px^2
    float f = fg_share(centre.a);
    float own = own_px / RING_SPACING;
    float w = disc_share(own, clamp(own + 0.5, 0.0, 1.0), CENTRE_TAP_AREA, shape);
    vec4 bg = vec4(centre.rgb, 1.0) * ((1.0 - f) * (w + hole * unit));
    float hidden = f * w;
    for (int level = 0; level <= top_level; ++level) {
        if (!level_reached(level, radius)) break;
        Level lv = level_at(level, texel);
        int first = level == 0 ? 1 : LEVEL0_TAPS;
        float centre_r = reach_px / lv.spacing;  // radii in this level's spacings
        own = own_px / lv.spacing;
        float tap_px = lv.spacing * lv.spacing;  // px^2 per spacing^2
        for (int row = 0; row < lv.rows; ++row) {
            Ring walk = ring_of(lv, lv.first_row + row, first);
            first += walk.taps;
            if (radius <= walk.span.x * lv.spacing) break;
            vec2 span = walk.span;
            float within = cover(own, span);  // the tap's share inside p's own disc
            float hole_tap = hole * walk.area * tap_px;
            float own_share = disc_share(own, within, walk.area, shape);
            if (near_discs) {
                for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
                    span = walk.span * tap_scales[walk.first + j];
                    within = cover(own, span);
                    own_share = disc_share(own, within, walk.area, shape);
#endif
                    vec4 s = texelFetch(levels, tap_at(lv, walk.offset), 0);
                    walk.offset = next_offset(walk);
                    float r = abs(s.a) * lv.to_taps;
                    float reach_r = s.a <= centre.a ? r : min(r, centre_r);
                    f = fg_share(s.a);
                    w = disc_share(r, cover(reach_r, span), walk.area, shape);
                    bg += vec4(s.rgb, 1.0) * ((1.0 - f) * (w + hole_tap * within));
                    hidden += f * own_share;
                }
            } else {
                // no near disc within the kernel (fg_share is 0 for every sample):
                // the same sum without the foreground's terms, for less
                for (int j = 0; j < walk.taps; ++j) {
#if POLYGON_APERTURE
                    span = walk.span * tap_scales[walk.first + j];
                    within = cover(own, span);
#endif
                    vec4 s = texelFetch(levels, tap_at(lv, walk.offset), 0);
                    walk.offset = next_offset(walk);
                    float r = abs(s.a) * lv.to_taps;
                    float reach_r = s.a <= centre.a ? r : min(r, centre_r);
                    w = disc_share(r, cover(reach_r, span), walk.area, shape);
                    bg += vec4(s.rgb, 1.0) * (w + hole_tap * within);
                }
            }
        }
    }
    return Background(bg / unit, hidden / unit);
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
    if (tile_reach.x > 0.5 * LAYER_MIN_COC) {
        fg = gather_foreground(texel, tile_reach.x, centre, texelFetch(highlight, texel, 0).a);
    }

    // Background, normalised.
    bool near_discs = tile.w < -LAYER_MIN_COC;
    Background bg = gather_background(texel, tile_reach.y, centre, near_discs);

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
