// Dilate (tile resolution): the largest blur radius that can reach each tile.
// A neighbour tile's blur reaches this tile when its radius exceeds the gap
// between the two tiles; it counts in full from there and phases in over the
// REACH_RAMP px before, so a tile's radius (which sets its gather's kernel)
// never jumps while a rack moves CoCs. Foreground discs spread by their own
// radius. A background sample farther than a pixel reaches it only within
// hidden_reach of that pixel (dof_common.glsl): its own blur radius, covered
// by the tile's own range, or, for a pixel in front of the focal plane, far
// more. So a neighbour's background counts only up to hidden_reach of this
// tile's nearest CoC: a sharp tile beside a blurred background needs no gather.
//
// Flags (FLAG_* bits from realtime/passes/constants.py; composite.vert picks
// a program by them) spare the composite work: SPRITES, a
// highlight sprite can land in the tile; NARROW, the CoC over the tile and
// its eight neighbours varies by less than NARROW_COC plus a quarter of the
// smallest blur there (a plain bilinear upsample cannot smear a sharp edge:
// at worst it mixes two blurs into each other by a pixel, invisible under
// either); SLIGHT, some CoC there may lie in the slight-focus band.
#include "dof_common.glsl"

uniform sampler2D tiles;  // Tiles: (min signed CoC, max signed CoC, largest sprite |CoC|, 0)
uniform int reach_tiles;  // how many tiles out the largest blur of the frame reaches

layout(location = 0) out vec4 reach;  // Dilate (realtime/passes/dilate.py)

void main() {
    ivec2 tile = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(tiles, 0) - 1;
    vec2 own = texelFetch(tiles, tile, 0).xy;
    float fg = max(-own.x, 0.0) * 0.5;
    float bg = max(abs(own.x), abs(own.y)) * 0.5;
    float hidden = hidden_reach(own.x);  // the farthest reach of a sample behind this tile
    float sprites = 0.0;
    float lo = own.x;
    float hi = own.y;
    float nearest = own.x;  // over every tile looked at: is there a near disc to keep apart
    for (int y = -reach_tiles; y <= reach_tiles; ++y) {
        for (int x = -reach_tiles; x <= reach_tiles; ++x) {
            ivec2 n = tile + ivec2(x, y);
            if (any(lessThan(n, ivec2(0))) || any(greaterThan(n, last))) continue;
            vec3 range = texelFetch(tiles, n, 0).xyz;
            nearest = min(nearest, range.x);
            float gap = float(TILE_SIZE) * length(max(abs(vec2(x, y)) - 1.0, 0.0));
            float fg_r = max(-range.x, 0.0) * 0.5;
            fg = max(fg, fg_r * clamp((fg_r - gap) / REACH_RAMP + 1.0, 0.0, 1.0));
            float bg_r = min(max(range.y, 0.0) * 0.5, hidden);
            bg = max(bg, bg_r * clamp((bg_r - gap) / REACH_RAMP + 1.0, 0.0, 1.0));
            // a sprite's anti-aliased rim reaches half its width past its radius
            if (range.z > 0.0 && range.z * 0.5 + 0.5 * SPRITE_RIM_MAX > gap) sprites = 1.0;
            if (max(abs(x), abs(y)) <= 1) {
                lo = min(lo, range.x);
                hi = max(hi, range.y);
            }
        }
    }
    float least_blur = (lo > 0.0 || hi < 0.0) ? min(abs(lo), abs(hi)) : 0.0;
    bool narrow = hi - lo < NARROW_COC + 0.25 * least_blur;
    bool all_sharp = lo > -FG_MIN && hi < FG_MIN;
    bool slight = !(hi < -SLIGHT_COC || lo > SLIGHT_COC || all_sharp);
    int flags = (sprites > 0.0 ? FLAG_SPRITES : 0) | (narrow ? FLAG_NARROW : 0) | (slight ? FLAG_SLIGHT : 0);
    reach = vec4(fg, bg, float(flags), nearest);
}
