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
// whose mean colour is closer to its own, so the depth edge moves to the
// colour edge (sensor depth edges miss colour edges by a pixel or two). Colour
// distances are in units of each set's own colour spread, so a textured surface
// claims all of its texture; when both sets look alike (within SNAP_MARGIN of
// each other), the pixel keeps the set its own depth lies in.
uniform sampler2D color;   // full res, linear RGB
uniform sampler2D filled;  // full res, R32F inverse depth (holes filled)

layout(location = 0) out vec4 refined;  // rgb = sqrt of the linear colour, a = inverse depth

// How far colour c lies from a set of colours (sums of g c and g c^2 over weight g),
// in units of the set's own spread: a textured surface (a checker) owns all its
// colours, a plain one only colours near its mean.
float colour_distance(vec3 c, vec3 sum, vec3 sum_sq, float weight) {
    vec3 mean = sum / weight;
    vec3 var = max(sum_sq / weight - mean * mean, vec3(0.0)) + COLOR_NOISE * COLOR_NOISE;
    vec3 d = c - mean;
    return dot(d * d, 1.0 / var);
}

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
    // Per set (0 near, 1 far): weighted sums of colour and colour^2, and (sum g, sum g w,
    // sum g w^2).
    vec3 colour_sum[2] = vec3[2](vec3(0.0), vec3(0.0));
    vec3 colour_sq[2] = vec3[2](vec3(0.0), vec3(0.0));
    vec3 moments[2] = vec3[2](vec3(0.0), vec3(0.0));
    for (int y = -REFINE_RADIUS; y <= REFINE_RADIUS; ++y) {
        for (int x = -REFINE_RADIUS; x <= REFINE_RADIUS; ++x) {
            ivec2 p = clamp(q + ivec2(x, y), ivec2(0), last);
            float w = texelFetch(filled, p, 0).r;
            vec3 c = sqrt(max(texelFetch(color, p, 0).rgb, vec3(0.0)));
            float g = exp(-float(x * x + y * y) / (2.0 * REFINE_SIGMA_PX * REFINE_SIGMA_PX));
            int s = w > mid ? 0 : 1;
            colour_sum[s] += c * g;
            colour_sq[s] += c * c * g;
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
            float en = colour_distance(centre, colour_sum[0], colour_sq[0], moments[0].x);
            float ef = colour_distance(centre, colour_sum[1], colour_sq[1], moments[1].x);
            bool take_near = own > mid;
            if (en + SNAP_MARGIN < ef) take_near = true;
            if (ef + SNAP_MARGIN < en) take_near = false;
            w = take_near ? mean.x : mean.y;
        }
    }
    refined = vec4(centre, w);
}
