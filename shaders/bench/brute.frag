// Brute force (full resolution): the baseline the pipeline is measured
// against for speed. Every pixel within the largest CoC radius is a tap, with
// the same two-layer depth rules as gather.frag (see there): foreground discs
// add coverage 1 / (pi r^2) each, the background is a normalised gather where
// a sample farther than the centre reaches only min(r_s, r_centre).
#include "dof_common.glsl"

uniform sampler2D color;  // full res, linear RGB (Compositor.upload)
uniform sampler2D depth;  // full res, metres (Compositor.upload)

layout(location = 0) out vec4 result;  // BruteForce (realtime/baselines.py)

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(color, 0) - 1;
    float centre = coc_from_depth(texelFetch(depth, q, 0).r);
    bool centre_fg = centre < -FG_MIN;
    float centre_r = centre_fg ? MAX_COC : max(centre, 0.0) * 0.5;
    int reach_px = int(ceil(MAX_COC * 0.5));
    vec4 fg = vec4(0.0);
    vec4 bg = vec4(0.0);
    for (int y = -reach_px; y <= reach_px; ++y) {
        for (int x = -reach_px; x <= reach_px; ++x) {
            vec2 offset = vec2(x, y);
            float d = length(offset);
            if (d > MAX_COC * 0.5 + 0.5) continue;
            d /= aperture_radius(-offset);
            ivec2 p = clamp(q + ivec2(x, y), ivec2(0), last);
            vec3 c = texelFetch(color, p, 0).rgb;
            float k = coc_from_depth(texelFetch(depth, p, 0).r);
            float r = abs(k) * 0.5;
            if (k < -FG_MIN) {
                float a = clamp(r - d + 0.5, 0.0, 1.0) / max(aperture_area(r), 1.0);
                fg += vec4(c * a, a);
            } else {
                float reach_r = (k <= centre) ? r : min(r, centre_r);
                float w = clamp(reach_r - d + 0.5, 0.0, 1.0) / max(aperture_area(r), 1.0)
                        + (centre_fg ? HOLE_WEIGHT : 0.0);
                bg += vec4(c * w, w);
            }
        }
    }
    vec3 behind = bg.a > 0.0 ? bg.rgb / bg.a : texelFetch(color, q, 0).rgb;
    float alpha = min(fg.a, 1.0);
    result = vec4(fg.rgb / max(fg.a, 1.0) + (1.0 - alpha) * behind, 1.0);
}
