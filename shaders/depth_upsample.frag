// Guided depth upsampling (full resolution): depth smaller than the colour,
// brought to the colour's size with its edges where the colour's are, in
// inverse depth w = 1/z (where the CoC is affine, so an error here is a CoC error).
//
// After joint bilateral upsampling (Kopf, Cohen, Lischinski, Uyttendaele, SIGGRAPH
// 2007), over the UPSAMPLE_SPAN x UPSAMPLE_SPAN depth texels q around the pixel:
//   no edge    where a plane fits the texels' inverse depths (a flat or slanted
//              surface, 8-bit steps included): bilinear interpolation, smooth;
//   an edge    where it does not (the fit's residual is over PLANE_RESIDUAL of their
//              range, and the range over EDGE_DW): the texels split at their mid value
//              into a near and a far set, and the pixel takes the mean of the set that
//              looks more like it. Each texel weighs in by a gaussian of its distance
//              (UPSAMPLE_SIGMA texels), by a gaussian of the difference between the
//              pixel's colour and q's mean colour (MATCH_SIGMA), and by how far q's
//              depth lies from the mid value (to the power EXTREME_POWER): a texel
//              whose footprint straddles the edge holds a mix of both depths (phones
//              average, sensors blur) and says little about either side.
// So the depth edge follows the colour edge, and silhouettes stay hard instead of
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
    // Colour-matched sums (sum m, sum m w), over all texels and the near ones (w above
    // mid): m = the gaussian of distance x colour match x distance of w from mid.
    vec2 all_m = vec2(0.0);
    vec2 near_m = vec2(0.0);
    vec2 tent_sum = vec2(0.0);  // bilinear weights (sum b, sum b w)
    vec4 plane = vec4(0.0);  // the plane fit over the grid: (sum w, sum w^2, sum x w, sum y w)
    for (int j = 0; j < UPSAMPLE_SPAN; ++j) {
        for (int i = 0; i < UPSAMPLE_SPAN; ++i) {
            ivec2 cell = first + ivec2(i, j);
            ivec2 q = clamp(cell - lo_origin, ivec2(0), last);
            vec4 g = texelFetch(guide, q, 0);
            vec2 offset = vec2(cell) + 0.5 - u;
            vec2 d = offset / UPSAMPLE_SIGMA;
            vec3 dc = (own - g.rgb) / MATCH_SIGMA;
            float s = g.a > 0.0 ? exp(-0.5 * dot(d, d)) : 0.0;
            float t = clamp(abs(g.a - mid) / max(0.5 * (hi - lo), 1e-30), 0.0, 1.0);
            float m = s * (exp(-0.5 * dot(dc, dc)) + MATCH_FLOOR) * pow(t, EXTREME_POWER);
            float is_near = g.a > mid ? 1.0 : 0.0;
            all_m += m * vec2(1.0, g.a);
            near_m += is_near * m * vec2(1.0, g.a);
            vec2 grid_xy = vec2(i, j) - 0.5 * float(UPSAMPLE_SPAN - 1);
            float centred = g.a - mid;  // (centred for float precision)
            plane += vec4(centred, centred * centred, grid_xy * centred);
            vec2 b = max(1.0 - abs(offset), 0.0);
            tent_sum += (g.a > 0.0 ? b.x * b.y : 0.0) * vec2(1.0, g.a);
        }
    }
    // no edge: bilinear interpolation (the weighted mean where its texels lack data)
    float w = tent_sum.x > 0.0 ? tent_sum.y / tent_sum.x : all_m.y / max(all_m.x, 1e-30);
    // An edge where a plane fits the texels badly: the residual of the least-squares
    // plane over the grid (all texels valid, as filled depth is) is a fair share of
    // their range. A gradient, however steep, is a plane; a step leaves 0.22 of itself.
    float n = float(UPSAMPLE_SPAN * UPSAMPLE_SPAN);
    float mean = plane.x / n;
    vec2 slope = plane.zw / GRID_MOMENT;
    float residual = sqrt(max(plane.y / n - mean * mean - dot(slope, slope) * GRID_MOMENT / n, 0.0));
    vec2 far_m = all_m - near_m;
    if (hi - lo > EDGE_DW && residual > PLANE_RESIDUAL * (hi - lo) && near_m.x > 0.0 && far_m.x > 0.0) {
        w = near_m.x >= far_m.x ? near_m.y / near_m.x : far_m.y / far_m.x;  // the side like the pixel
    }
    depth_m = w > 0.0 ? 1.0 / w : 0.0;
}
