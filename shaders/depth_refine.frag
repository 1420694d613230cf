// Depth refine (full resolution): denoise depth and snap its edges to the
// colour edges, in inverse depth w = 1/z (the CoC is affine in w, so errors
// here are CoC errors).
//
// The window (REFINE_TAPS: the pixels within REFINE_RADIUS steps, |dx| + |dy|, and
// sparse rings out to 5 px) is split at its mid depth into a near and a far set. The
// split is a depth edge when the sets' mean depths lie more than EDGE_SEPARATION times
// their spreads apart (noise alone splits into sets about 1.3 spreads apart) and more
// than EDGE_DW. Without an edge the output is the window's gaussian-weighted mean:
// sensor noise averages out. At an edge the pixel takes the mean depth of the set
// whose colours explain its own better: each set's colours as a gaussian (its mean
// and spread, every tap alike), the pixel's colour scored by its likelihood under
// each (colour_cost). So the depth edge moves to the colour edge: sensor depth edges
// miss colour edges by a few pixels (misregistration, stereo edge fattening), and a
// pixel on the wrong side sees, within 5 px, enough of both sides correctly labelled.
// A set polluted by a misplaced band of the other side's pixels is wider, and its
// wider spread costs it. When neither side wins by SNAP_MARGIN, the pixel keeps the
// set its own depth lies in. Lights (a guide colour of LIGHT_GUIDE or more: linear
// values over 1) neither vote nor move: they are outliers of any surface's colours.
uniform sampler2D guide;  // full res, RGBA32F (DepthFill): rgb = guide colour, a = 1/m

uniform vec3 refine_taps[REFINE_TAPS];  // (x, y) offset, px, and its gaussian weight

layout(location = 0) out vec4 refined;  // rgb = guide colour, a = inverse depth

// How unlike a set of pixels a colour is: the negative log-likelihood of `c` under a
// gaussian with the set's mean colour and its per-channel variance (at least
// MATCH_SIGMA^2), less constants. `moments` = (sum c, sum |c|^2) over `count` pixels.
// The variance's log term keeps a set that mixes both sides of an edge (a misplaced band
// of the other side's pixels widens it) from claiming every colour.
float colour_cost(vec3 c, vec4 moments, float count) {
    vec3 mean = moments.rgb / count;
    float variance = max(moments.a / count - dot(mean, mean), 0.0) / 3.0 + MATCH_SIGMA * MATCH_SIGMA;
    vec3 off = c - mean;
    return 0.5 * dot(off, off) / variance + 1.5 * log(variance);
}

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(guide, 0) - 1;
    float lo = 1e30;
    float hi = 0.0;
    vec2 mean_sum = vec2(0.0);  // (sum g, sum g w): the window's gaussian mean
    for (int i = 0; i < REFINE_TAPS; ++i) {
        vec3 tap = refine_taps[i];
        float w = texelFetch(guide, clamp(q + ivec2(tap.xy), ivec2(0), last), 0).a;
        lo = min(lo, w);
        hi = max(hi, w);
        mean_sum += tap.z * vec2(1.0, w);
    }
    vec4 here = texelFetch(guide, q, 0);
    vec3 centre = here.rgb;
    if (hi - lo <= EDGE_DW) {  // no edge can be here (most pixels): the mean, done
        refined = vec4(centre, mean_sum.y / mean_sum.x);
        return;
    }
    float own = here.a;
    float mid = 0.5 * (lo + hi);
    // Per set, near and far: depth moments under the spatial gaussian (sum g, sum g w,
    // sum g w^2) and colour moments with every tap alike (count, sum c, sum |c|^2).
    // Accumulated without branches or indexed arrays, which a software rasteriser would
    // run slowly.
    vec3 near_depth = vec3(0.0);
    vec3 far_depth = vec3(0.0);
    vec4 near_colour = vec4(0.0);  // (sum c, sum |c|^2)
    vec4 far_colour = vec4(0.0);
    float near_count = 0.0;  // surface pixels (not lights) in each set
    float far_count = 0.0;
    for (int i = 0; i < REFINE_TAPS; ++i) {
        vec3 tap = refine_taps[i];  // (x, y, spatial weight)
        vec4 t = texelFetch(guide, clamp(q + ivec2(tap.xy), ivec2(0), last), 0);
        vec3 moments = tap.z * vec3(1.0, t.a, t.a * t.a);
        // lights (HDR) are outliers of whatever surface they sit on: no colour vote
        float surface = float(max(t.r, max(t.g, t.b)) < LIGHT_GUIDE);
        vec4 colour = surface * vec4(t.rgb, dot(t.rgb, t.rgb));
        float is_near = float(t.a > mid);
        near_depth += is_near * moments;
        far_depth += (1.0 - is_near) * moments;
        near_colour += is_near * colour;
        far_colour += (1.0 - is_near) * colour;
        near_count += is_near * surface;
        far_count += (1.0 - is_near) * surface;
    }
    vec3 all = near_depth + far_depth;
    float w = all.y / all.x;
    bool light = max(centre.r, max(centre.g, centre.b)) >= LIGHT_GUIDE;
    bool voters = near_count > 0.0 && far_count > 0.0;
    if (near_depth.x > 0.0 && far_depth.x > 0.0 && voters && !light) {
        vec2 mean = vec2(near_depth.y / near_depth.x, far_depth.y / far_depth.x);
        vec2 var = vec2(near_depth.z / near_depth.x, far_depth.z / far_depth.x) - mean * mean;
        vec2 spread = sqrt(max(var, vec2(0.0)));
        if (mean.x - mean.y > EDGE_SEPARATION * (spread.x + spread.y)) {
            float d_near = colour_cost(centre, near_colour, near_count);
            float d_far = colour_cost(centre, far_colour, far_count);
            bool take_near = own > mid;
            if (d_near < d_far - SNAP_MARGIN) take_near = true;
            if (d_far < d_near - SNAP_MARGIN) take_near = false;
            w = take_near ? mean.x : mean.y;
        }
    }
    refined = vec4(centre, w);
}
