// Pyramid (half resolution, one level coarser): the setup texture filtered to
// ever wider boxes, level by level, kept at half res, so a gather whose taps
// lie far apart reads texels that hold everything between them (a sparse
// gather on a fine level skips what falls between its taps: blotches, dotted
// rims) and, at every position, the box centred there: what a tap reads
// moves smoothly with the tap (a decimated pyramid's texel jumps from block
// to block, which shows as a mosaic in a wide blur).
//
// Level l's texel i holds the box of 2^l x 2^l half-res texels centred on
// its lower-left corner, [i - 2^(l-1), i + 2^(l-1)) on each axis: the four
// boxes of level l - 1 centred half their width to either side (for level 1,
// the level-0 texels i - 1 and i). Every level keeps every half-res texel:
// a level that kept one texel per box, or per half box, would read as
// blocks of that size in a wide blur.
//
// Each texel keeps the farthest CoC of its four boxes and averages only the
// colours of those at about that depth (weights fading from 1 to 0 between
// one and two tolerances, as in setup.frag), so no texel blends across a
// depth edge. Farthest, unlike setup.frag's nearest: a wide texel on a
// silhouette then holds the background around it, which a wide blur of that
// background needs, while what lies in front there (a sharp subject, the
// foreground's edge) is a disc too small to reach far, gathered at the fine
// levels a small radius reads.
#include "dof_common.glsl"

uniform sampler2D finer;       // the level below: Setup target 0, the Pyramid's texture or its scratch level
uniform ivec2 finer_origin;    // where that level lies in `finer`
uniform ivec2 coarser_origin;  // where this level lies in the target drawn into
uniform ivec2 last;            // a level's last texel
uniform ivec2 offsets;  // (low, high): the boxes below lie at texel + low and + high

layout(location = 0) out vec4 coarser;  // the Pyramid's texture or scratch level (realtime/passes/pyramid.py)

void main() {
    ivec2 texel = ivec2(gl_FragCoord.xy) - coarser_origin;
    vec4 t[4];
    for (int i = 0; i < 4; ++i) {
        ivec2 at = texel + ivec2(offsets[i & 1], offsets[i >> 1]);
        t[i] = texelFetch(finer, clamp(at, ivec2(0), last) + finer_origin, 0);
    }
    float kept = max(max(t[0].a, t[1].a), max(t[2].a, t[3].a));
    float tolerance = 1.0 + 0.25 * abs(kept);
    vec4 sum = vec4(0.0);
    for (int i = 0; i < 4; ++i) {
        float w = clamp(2.0 - abs(t[i].a - kept) / tolerance, 0.0, 1.0);
        sum += vec4(t[i].rgb, 1.0) * w;
    }
    coarser = vec4(sum.rgb / sum.a, kept);
}
