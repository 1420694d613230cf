// Depth refine (full resolution): denoise depth and snap its edges to the
// colour edges, in inverse depth w = 1/z (the CoC is affine in w, so errors
// here are CoC errors).
//
// The (2 REFINE_RADIUS + 1)^2 window around each pixel is split at its mid
// depth into a near and a far set. The split is a depth edge when the sets'
// mean depths lie more than EDGE_SEPARATION times their spreads apart (noise
// alone splits into sets about 1.3 spreads apart) and more than EDGE_DW.
// Without an edge the output is the window's gaussian-weighted mean: sensor
// noise averages out. At an edge the pixel takes the mean depth of the set
// more of whose pixels look like it (colour within about MATCH_SIGMA), so the
// depth edge moves to the colour edge (sensor depth edges miss colour edges by
// a pixel or two). Counting look-alikes rather than comparing mean colours
// lets a textured surface claim all of its texture, and a set polluted by a
// misplaced band of the other side's pixels still loses to the clean one.
// When both sets' shares are within SNAP_MARGIN, the pixel keeps the set its
// own depth lies in.
uniform sampler2D color;   // full res, linear RGB
uniform sampler2D filled;  // full res, R32F inverse depth (holes filled)

layout(location = 0) out vec4 refined;  // rgb = sqrt of the linear colour, a = inverse depth

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(filled, 0) - 1;
    float lo = 1e30;
    float hi = 0.0;
    for (int y = -REFINE_RADIUS; y <= REFINE_RADIUS; ++y) {
        for (int x = -REFINE_RADIUS; x <= REFINE_RADIUS; ++x) {
            float w = texelFetch(filled, clamp(q + ivec2(x, y), ivec2(0), last), 0).r;
            lo = min(lo, w);
            hi = max(hi, w);
        }
    }
    vec3 centre = sqrt(max(texelFetch(color, q, 0).rgb, vec3(0.0)));
    float own = texelFetch(filled, q, 0).r;
    float mid = 0.5 * (lo + hi);
    // Per set (0 near, 1 far): (sum g, sum g w, sum g w^2) and the weight of its pixels
    // that look like the centre (colour support).
    float support[2] = float[2](0.0, 0.0);
    vec3 moments[2] = vec3[2](vec3(0.0), vec3(0.0));
    for (int y = -REFINE_RADIUS; y <= REFINE_RADIUS; ++y) {
        for (int x = -REFINE_RADIUS; x <= REFINE_RADIUS; ++x) {
            ivec2 p = clamp(q + ivec2(x, y), ivec2(0), last);
            float w = texelFetch(filled, p, 0).r;
            vec3 c = sqrt(max(texelFetch(color, p, 0).rgb, vec3(0.0)));
            float g = exp(-float(x * x + y * y) / (2.0 * REFINE_SIGMA_PX * REFINE_SIGMA_PX));
            int s = w > mid ? 0 : 1;
            vec3 dc = c - centre;
            support[s] += g * exp(-dot(dc, dc) / (2.0 * MATCH_SIGMA * MATCH_SIGMA));
            moments[s] += vec3(g, g * w, g * w * w);
        }
    }
    vec3 all = moments[0] + moments[1];
    float w = all.y / all.x;
    if (moments[0].x > 0.0 && moments[1].x > 0.0 && hi - lo > EDGE_DW) {
        vec2 mean = vec2(moments[0].y / moments[0].x, moments[1].y / moments[1].x);
        vec2 var = vec2(moments[0].z / moments[0].x, moments[1].z / moments[1].x) - mean * mean;
        vec2 spread = sqrt(max(var, vec2(0.0)));
        if (mean.x - mean.y > EDGE_SEPARATION * (spread.x + spread.y)) {
            float near_share = support[0] / moments[0].x;  // how much of each set looks like
            float far_share = support[1] / moments[1].x;   // the centre, 0..1
            bool take_near = own > mid;
            if (near_share > far_share + SNAP_MARGIN) take_near = true;
            if (far_share > near_share + SNAP_MARGIN) take_near = false;
            w = take_near ? mean.x : mean.y;
        }
    }
    refined = vec4(centre, w);
}
