// Depth fill (one pyramid level up): a texel without data takes its parent's
// filled value, so every hole gets the farthest depth of the smallest block
// around it that has any. At the finest level the input is raw metric depth
// (converted to inverse depth here) and the output packs the colour beside
// it, as DepthRefine reads them: one fetch per tap. Coarser levels are
// inverse depth in, inverse depth out.
uniform sampler2D level;   // R32F: metres (RAW_METRES; NaN, <= 0 = no data), else 1/m (0 = none)
uniform sampler2D parent;  // the next coarser level, filled: R32F inverse depth (0 only if all empty)
#if RAW_METRES
#include "depth_common.glsl"

uniform sampler2D color;   // full res, linear RGB

layout(location = 0) out vec4 filled;  // RGBA32F: rgb = guide_colour of the colour, a = 1/m
#else
layout(location = 0) out float filled;  // R32F inverse depth, 1/m
#endif

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    float v = texelFetch(level, q, 0).r;
#if RAW_METRES
    float w = (v > 0.0 && v < 1e30) ? 1.0 / v : 0.0;  // NaN, 0, negative, inf: no data
#else
    float w = v;
#endif
    w = w > 0.0 ? w : texelFetch(parent, min(q / 2, textureSize(parent, 0) - 1), 0).r;
#if RAW_METRES
    filled = vec4(guide_colour(texelFetch(color, q, 0).rgb), w);
#else
    filled = w;
#endif
}
