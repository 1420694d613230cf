// Depth refine (full resolution): denoise depth and snap its edges to the
// colour edges, in inverse depth w = 1/z (the CoC is affine in w, so errors
// here are CoC errors).
//
// The window of pixels within REFINE_RADIUS steps (|dx| + |dy|) is split at its mid
// depth into a near and a far set. The split is a depth edge when the sets'
// mean depths lie more than EDGE_SEPARATION times their spreads apart (noise
// alone splits into sets about 1.3 spreads apart) and more than EDGE_DW.
// Without an edge the output is the window's gaussian-weighted mean: sensor
// noise averages out. At an edge the pixel takes the mean depth of the set
// more of whose pixels look like it (colour within 2 MATCH_SIGMA), so the
// depth edge moves to the colour edge (sensor depth edges miss colour edges by
// a pixel or two). Counting look-alikes rather than comparing mean colours
// lets a textured surface claim all of its texture, and a set polluted by a
// misplaced band of the other side's pixels still loses to the clean one.
// When both sets' shares are within SNAP_MARGIN, the pixel keeps the set its
// own depth lies in.
uniform sampler2D guide;  // full res, RGBA32F (DepthFill): rgb = sqrt of linear colour, a = 1/m

uniform vec3 refine_taps[REFINE_TAPS];  // (x, y) offset, px, and its gaussian weight

layout(location = 0) out vec4 refined;  // rgb = sqrt of the linear colour, a = inverse depth

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(guide, 0) - 1;
    float lo = 1e30;
    float hi = 0.0;
    for (int i = 0; i < REFINE_TAPS; ++i) {
        float w = texelFetch(guide, clamp(q + ivec2(refine_taps[i].xy), ivec2(0), last), 0).a;
        lo = min(lo, w);
        hi = max(hi, w);
    }
    vec4 here = texelFetch(guide, q, 0);
    vec3 centre = here.rgb;
    float own = here.a;
    float mid = 0.5 * (lo + hi);
    // Per set, near and far: (sum g, sum g w, sum g w^2) and the weight of its pixels that
    // look like the centre (colour support). Accumulated without branches or indexed
    // arrays, which a software rasteriser would run slowly.
    vec4 near = vec4(0.0);  // (moments, support)
    vec4 far = vec4(0.0);
    for (int i = 0; i < REFINE_TAPS; ++i) {
        vec3 tap = refine_taps[i];  // (x, y, spatial weight)
        vec4 t = texelFetch(guide, clamp(q + ivec2(tap.xy), ivec2(0), last), 0);
        vec3 dc = t.rgb - centre;
        float look_alike = max(1.0 - dot(dc, dc) / (4.0 * MATCH_SIGMA * MATCH_SIGMA), 0.0);
        vec4 sample_ = tap.z * vec4(1.0, t.a, t.a * t.a, look_alike);
        float is_near = float(t.a > mid);
        near += is_near * sample_;
        far += (1.0 - is_near) * sample_;
    }
    vec4 all = near + far;
    float w = all.y / all.x;
    if (near.x > 0.0 && far.x > 0.0 && hi - lo > EDGE_DW) {
        vec2 mean = vec2(near.y / near.x, far.y / far.x);
        vec2 var = vec2(near.z / near.x, far.z / far.x) - mean * mean;
        vec2 spread = sqrt(max(var, vec2(0.0)));
        if (mean.x - mean.y > EDGE_SEPARATION * (spread.x + spread.y)) {
            float near_share = near.w / near.x;  // how much of each set looks like
            float far_share = far.w / far.x;     // the centre, 0..1
            bool take_near = own > mid;
            if (near_share > far_share + SNAP_MARGIN) take_near = true;
            if (far_share > near_share + SNAP_MARGIN) take_near = false;
            w = take_near ? mean.x : mean.y;
        }
    }
    refined = vec4(centre, w);
}
