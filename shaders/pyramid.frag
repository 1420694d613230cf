// Pyramid (one level coarser): the half-res setup texture reduced 2x2 by 2x2,
// level by level, so a gather whose taps lie far apart reads texels that
// hold everything between them (a sparse gather on a fine level skips what
// falls between its taps: blotches, dotted rims).
//
// Each texel keeps the farthest CoC of its 2x2 block and averages only the
// colours of texels at about that depth (weights fading from 1 to 0 between
// one and two tolerances, as in setup.frag), so no texel blends across a
// depth edge. Farthest, unlike setup.frag's nearest: a coarse texel on a
// silhouette then holds the background around it, which a wide blur of that
// background needs, while what lies in front there (a sharp subject, the
// foreground's edge) is a disc too small to reach far, gathered at the fine
// levels a small radius reads.
#include "dof_common.glsl"

uniform sampler2D finer;  // Setup target 0 and its levels so far (rgb, signed CoC)
uniform int finer_level;  // the level this one reduces

layout(location = 0) out vec4 coarser;  // Pyramid (realtime/passes/pyramid.py)

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * 2;
    ivec2 last = textureSize(finer, finer_level) - 1;
    vec4 t[4];
    for (int i = 0; i < 4; ++i) t[i] = texelFetch(finer, min(base + ivec2(i & 1, i >> 1), last), finer_level);
    float kept = max(max(t[0].a, t[1].a), max(t[2].a, t[3].a));
    float tolerance = 1.0 + 0.25 * abs(kept);
    vec4 sum = vec4(0.0);
    for (int i = 0; i < 4; ++i) {
        float w = clamp(2.0 - abs(t[i].a - kept) / tolerance, 0.0, 1.0);
        sum += vec4(t[i].rgb, 1.0) * w;
    }
    coarser = vec4(sum.rgb / sum.a, kept);
}
