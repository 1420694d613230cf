// Prepare (full resolution): colour and signed CoC packed into one texel, so
// every later full-res tap is one fetch instead of two plus the lens formula.
#include "dof_common.glsl"

uniform sampler2D color;  // full res, linear RGB (Compositor.upload)
uniform sampler2D depth;  // full res, metres (Compositor.upload)

layout(location = 0) out vec4 prepared;  // Prepare: rgb linear (exact copy), a = signed CoC

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    prepared = vec4(texelFetch(color, q, 0).rgb, coc_from_depth(texelFetch(depth, q, 0).r));
}
