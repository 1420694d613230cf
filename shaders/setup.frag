// Setup (half resolution): downsample colour, compute the CoC, split off highlights.
//
// Each half-res texel covers a 2x2 block of full-res pixels. It keeps the
// CoC of the nearest pixel (a foreground may grow by a pixel, a background
// never leaks over it) and averages only the colours of pixels at about that
// depth (weights fade from 1 to 0 between one and two tolerances, so a rack
// never flips a pixel in or out), so no texel blends across a depth edge.
//
// Highlights: a sparse gather cannot draw the disc of one bright pixel (most
// output pixels miss it between taps), so isolated peaks are scattered as
// sprites instead. Two kinds of texel are scattered: a peak, brighter than
// twice the mean of the 12-pixel ring around its block plus HIGHLIGHT_MIN
// (its excess over the ring mean is scattered), and a hot texel, brighter
// than HDR_MIN and than twice the darkest ring pixel, as on the slopes of a
// small light (its excess over that darkest pixel is scattered). The rest
// stays in the gathered colour. Interiors of large bright areas are neither.
// Only blurred highlights are scattered, a share of the excess growing from
// 0 to all of it: in front of the focal plane from -CoC = SCATTER_MIN_COC to
// SCATTER_FULL_COC, behind it from CoC = SCATTER_BEHIND_MIN_COC to
// SCATTER_BEHIND_FULL_COC (realtime/passes/constants.py says why).
#include "dof_common.glsl"

uniform sampler2D prepared;  // Prepare: rgb linear, a = signed CoC

layout(location = 0) out vec4 half_color;  // Setup target 0 (realtime/passes/setup.py)
layout(location = 1) out vec4 highlight;   // Setup target 1 (and the share of the block kept)

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * 2;
    ivec2 last = textureSize(prepared, 0) - 1;
    vec3 c[4];
    float k[4];
    for (int i = 0; i < 4; ++i) {
        ivec2 p = min(base + ivec2(i & 1, i >> 1), last);
        vec4 t = texelFetch(prepared, p, 0);
        c[i] = t.rgb;
        k[i] = t.a;
    }
    float nearest = min(min(k[0], k[1]), min(k[2], k[3]));
    float tolerance = 1.0 + 0.25 * abs(nearest);
    vec3 sum = vec3(0.0);
    float count = 0.0;
    for (int i = 0; i < 4; ++i) {
        // weight 1 up to the tolerance, fading to 0 at twice it (no pop as
        // CoCs move through a rack)
        float w = clamp(2.0 - (k[i] - nearest) / tolerance, 0.0, 1.0);
        sum += c[i] * w;
        count += w;
    }
    vec3 mean = sum / count;

    highlight = vec4(0.0, 0.0, 0.0, 0.25 * count);
    // the share of a highlight scattered grows over its side's band
    float scattered = nearest < 0.0 ? smoothstep(SCATTER_MIN_COC, SCATTER_FULL_COC, -nearest)
                                    : smoothstep(SCATTER_BEHIND_MIN_COC, SCATTER_BEHIND_FULL_COC, nearest);
    if (scattered > 0.0) {
        vec3 ring_sum = vec3(0.0);
        vec3 ring_min = vec3(1e30);
        for (int i = 0; i < 12; ++i) {
            // the 12 border pixels of the 4x4 block around the 2x2 block
            ivec2 o = i < 4 ? ivec2(i - 1, -1) : i < 8 ? ivec2(i - 5, 2) : ivec2(i < 10 ? -1 : 2, (i & 1));
            vec3 c = texelFetch(prepared, clamp(base + o, ivec2(0), last), 0).rgb;
            ring_sum += c;
            ring_min = min(ring_min, c);
        }
        vec3 ring_mean = ring_sum / 12.0;
        float luma = dot(mean, LUMA);
        bool peak = luma > 2.0 * dot(ring_mean, LUMA) + HIGHLIGHT_MIN;
        bool hot = luma > HDR_MIN && 2.0 * dot(ring_min, LUMA) < luma;
        if (peak || hot) {
            vec3 excess = scattered * max(mean - (hot ? min(mean, ring_min) : ring_mean), vec3(0.0));
            highlight.rgb = excess;
            mean -= excess;
        }
    }
    half_color = vec4(mean, nearest);
}
