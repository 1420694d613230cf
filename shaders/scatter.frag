// Scatter (fragment stage): a flat, anti-aliased aperture-shaped disc at full
// res, into the foreground or background sprite layer, with the gather's
// depth rule: a highlight behind the pixel it lands on reaches it only within
// hidden_reach of that pixel (its own blur radius behind the focal plane).
// Sprites in front of the focal plane exist only for -CoC >= SCATTER_MIN_COC =
// SLIGHT_COC, where a near disc is wholly in the foreground layer (fg_share =
// 1); any other sprite lies behind it.
#include "dof_common.glsl"

uniform sampler2D prepared;  // Prepare: a = signed CoC

flat in vec4 sprite;
flat in float weight;
flat in vec2 centre_px;
flat in float rim;  // px over which the edge ramps

uniform int half_res;  // 1: drawing the half-res layers (a px here spans 2x2 full-res px)

layout(location = 0) out vec4 foreground;  // Scatter target 0 (realtime/passes/scatter.py)
layout(location = 1) out vec4 background;  // Scatter target 1

void main() {
    vec2 px = gl_FragCoord.xy * float(1 + half_res);  // full-res px
    vec2 offset = px - centre_px;
    float radius = abs(sprite.a) * 0.5;
    float dist = length(offset) / aperture_radius(-offset);
    float here = texelFetch(prepared, ivec2(px), 0).a;
    float reach = sprite.a <= here ? radius : min(radius, hidden_reach(here));
    // The sprite stands for a 2x2 block (or a group of them), so its edge
    // ramps over the block's width (the disc convolved with the block).
    float cover = clamp((reach - dist) / rim + 0.5, 0.0, 1.0);
    vec3 energy = sprite.rgb * cover;  // intensity per full-res px, like colour
    bool front = sprite.a < -SLIGHT_COC;
    // a = the weight behind the light, for the composite's normalisation
    foreground = vec4(front ? energy : vec3(0.0), 0.0);
    background = front ? vec4(0.0) : vec4(energy, weight * cover);
}
