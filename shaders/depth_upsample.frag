// Guided depth upsampling (full resolution): depth smaller than the colour,
// brought to the colour's size with its edges where the colour's are, in
// inverse depth w = 1/z (where the CoC is affine, so an error here is a CoC error).
//
// After joint bilateral upsampling (Kopf, Cohen, Lischinski, Uyttendaele, SIGGRAPH
// 2007), over the UPSAMPLE_SPAN x UPSAMPLE_SPAN depth texels q around the pixel:
//   no edge    the texels' inverse depths split at their mid value into a near and
//              a far set less than EDGE_SEPARATION spreads (or EDGE_DW) apart: the
//              pixel takes their mean weighted by a gaussian of its distance to each
//              texel's centre (UPSAMPLE_SIGMA depth texels): smooth, no steps;
//   an edge    the pixel takes one set's mean, the set that looks more like it: each
//              texel weighs in by that distance, by a gaussian of the difference
//              between the pixel's colour and q's mean colour (MATCH_SIGMA), and by
//              how far q's depth lies from the mid value (to the power EXTREME_POWER):
//              a texel whose footprint straddles the edge holds a mix of both depths
//              (phones average, sensors blur) and says little about either side.
// So the depth edge follows the colour edge and silhouettes stay hard instead of
// ramping through mixed depths.
//
// Coordinates as in depth_guide.frag: full-res pixel p of the frame sits at
// (p + 0.5) / hi_per_lo in depth texels; this target's texel 0 is pixel
// window_origin, and the guide's texel 0 is depth texel lo_origin.
#include "depth_common.glsl"

uniform sampler2D color;     // full res (a window of the frame), linear RGB
uniform sampler2D guide;     // DepthGuide: rgb = mean guide colour, a = 1/m (0: none)
uniform vec2 hi_per_lo;
uniform ivec2 lo_origin;
uniform ivec2 window_origin;

layout(location = 0) out float depth_m;  // R32F metres (0: no depth anywhere near)

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 own = guide_colour(texelFetch(color, p, 0).rgb);
    vec2 u = (vec2(p + window_origin) + 0.5) / hi_per_lo;  // in depth texels
    ivec2 first = ivec2(floor(u - 0.5)) - (UPSAMPLE_SPAN / 2 - 1);
    ivec2 last = textureSize(guide, 0) - 1;
    float lo = 1e30;
    float hi = 0.0;
    for (int j = 0; j < UPSAMPLE_SPAN; ++j) {
        for (int i = 0; i < UPSAMPLE_SPAN; ++i) {
            ivec2 q = clamp(first + ivec2(i, j) - lo_origin, ivec2(0), last);
            float w = texelFetch(guide, q, 0).a;
            if (w > 0.0) {
                lo = min(lo, w);
                hi = max(hi, w);
            }
        }
    }
    float mid = 0.5 * (lo + hi);
    // Per set (all texels, the near ones): spatial (sum s, sum s w, sum s w^2) and
    // colour-matched (sum s m, sum s m w), m = colour match x distance from mid.
    vec3 all_s = vec3(0.0);
    vec3 near_s = vec3(0.0);
    vec2 all_m = vec2(0.0);
    vec2 near_m = vec2(0.0);
    for (int j = 0; j < UPSAMPLE_SPAN; ++j) {
        for (int i = 0; i < UPSAMPLE_SPAN; ++i) {
            ivec2 cell = first + ivec2(i, j);
            ivec2 q = clamp(cell - lo_origin, ivec2(0), last);
            vec4 g = texelFetch(guide, q, 0);
            vec2 d = (vec2(cell) + 0.5 - u) / UPSAMPLE_SIGMA;
            vec3 dc = (own - g.rgb) / MATCH_SIGMA;
            float s = g.a > 0.0 ? exp(-0.5 * dot(d, d)) : 0.0;
            float t = clamp(abs(g.a - mid) / max(0.5 * (hi - lo), 1e-30), 0.0, 1.0);
            float m = s * (exp(-0.5 * dot(dc, dc)) + MATCH_FLOOR) * pow(t, EXTREME_POWER);
            float is_near = g.a > mid ? 1.0 : 0.0;
            vec3 sw = s * vec3(1.0, g.a, g.a * g.a);
            all_s += sw;
            near_s += is_near * sw;
            all_m += m * vec2(1.0, g.a);
            near_m += is_near * m * vec2(1.0, g.a);
        }
    }
    float w = all_s.y / max(all_s.x, 1e-30);  // no edge: the spatial mean
    vec3 far_s = all_s - near_s;
    if (near_s.x > 0.0 && far_s.x > 0.0) {
        float mean_near = near_s.y / near_s.x;
        float mean_far = far_s.y / far_s.x;
        float spread_near = sqrt(max(near_s.z / near_s.x - mean_near * mean_near, 0.0));
        float spread_far = sqrt(max(far_s.z / far_s.x - mean_far * mean_far, 0.0));
        float gap = mean_near - mean_far;
        if (gap > EDGE_DW && gap > EDGE_SEPARATION * (spread_near + spread_far)) {
            vec2 far_m = all_m - near_m;  // an edge: the set that looks more like the pixel
            w = near_m.x >= far_m.x ? near_m.y / near_m.x : far_m.y / far_m.x;
        }
    }
    depth_m = w > 0.0 ? 1.0 / w : 0.0;
}
