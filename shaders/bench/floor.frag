// Floor: the cheapest pass that does the job's I/O (read colour and depth,
// write the output). Pipeline cost is reported as a multiple of this.
#include "dof_common.glsl"

uniform sampler2D color;  // full res, linear RGB (Compositor.upload)
uniform sampler2D depth;  // full res, metres (Compositor.upload)

layout(location = 0) out vec4 result;  // Floor (realtime/baselines.py)

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    float coc = coc_from_depth(texelFetch(depth, q, 0).r);
    result = vec4(texelFetch(color, q, 0).rgb + 1e-9 * coc, 1.0);
}
