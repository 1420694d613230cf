// Depth temporal (full resolution): the refined depth averaged with the same
// pixel's refined depth in up to four previous frames, each weighted
// by how little the pixel's colour and depth changed since: a static pixel
// averages the whole window (noise and flicker fall), a pixel something moved
// over keeps its current depth (no ghost trail). The output is a function of
// the refined frames k - 4 .. k only, never of earlier outputs,
// so a clip's frame k is the same whether rendering starts at k or before it.
uniform sampler2D current;  // frame k: rgb guide colour, a inverse depth (DepthRefine's output)
// Frames k-1 .. k-4 in the same layout; sampler arrays cannot be indexed by a loop
// counter in GLSL 3.30, so the history is four named samplers (TEMPORAL_FRAMES <= 4).
uniform sampler2D history0;
uniform sampler2D history1;
uniform sampler2D history2;
uniform sampler2D history3;
uniform int history_count;  // how many of them exist (fewer at a clip's start)

layout(location = 0) out float depth_m;  // R32F, metres: what the chain's prepare pass reads

// (w g, g) of an earlier frame: g falls with the colour change and is 0 once its
// depth lies more than TEMPORAL_DW (1/m) from `centre` (something else is there now).
vec2 weighed(vec4 then, vec4 now, float centre) {
    vec3 dc = then.rgb - now.rgb;
    float g = exp(-dot(dc, dc) / (2.0 * TEMPORAL_COLOR_SIGMA * TEMPORAL_COLOR_SIGMA));
    g *= float(abs(then.a - centre) < TEMPORAL_DW);
    return vec2(then.a * g, g);
}

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    vec4 now = texelFetch(current, q, 0);
    vec4 h0 = texelFetch(history0, q, 0);
    vec4 h1 = texelFetch(history1, q, 0);
    // A one-frame flip: the two frames before agree with each other, in colour and
    // depth, and so does the colour now, but the depth jumped (a refine decision at an
    // edge whose sides look alike, tipped by noise). The frame is averaged around the
    // steady depth, so the flip is not shown; if the new depth holds, the next frame
    // shows it (the two before it no longer agree). Anything that moves changes the
    // colour or moves the depth every frame, and keeps its current depth: no trail.
    bool steady = history_count >= 2 && abs(h0.a - h1.a) < TEMPORAL_DW
        && weighed(h0, now, h0.a).y > 0.5 && weighed(h1, now, h1.a).y > 0.5;
    float centre = steady ? h0.a : now.a;
    vec2 acc = weighed(now, now, centre);
    if (history_count > 0) acc += weighed(h0, now, centre);
    if (history_count > 1) acc += weighed(h1, now, centre);
    if (history_count > 2) acc += weighed(texelFetch(history2, q, 0), now, centre);
    if (history_count > 3) acc += weighed(texelFetch(history3, q, 0), now, centre);
    depth_m = acc.y / acc.x;  // 1 / (mean inverse depth)
}
