// Depth guide (depth resolution): what the guided upsampling (depth_upsample.frag)
// needs to know of each depth texel q. Its colour is the mean of the colour over q's
// footprint (the full-res pixels q stands for), sampled on a grid of grid x grid
// points (about one a pixel, at most GUIDE_GRID a side).
//
// Coordinates: depth texel q covers full-res pixels [q, q + 1) * hi_per_lo of the
// whole frame. This pass draws the depth texels from lo_origin on, reading the
// colour of a window whose texel 0 is full-res pixel window_origin (tiles).
#include "depth_common.glsl"

uniform sampler2D color;     // full res (a window of the frame), linear RGB
uniform sampler2D depth;     // the whole depth map, R32F metres (NaN, <= 0 = no data)
uniform vec2 hi_per_lo;      // full-res pixels per depth texel, x and y
uniform ivec2 lo_origin;     // depth texel of this target's texel 0
uniform ivec2 window_origin; // full-res pixel of the colour texture's texel 0
uniform int grid;            // colour samples per footprint side: GUIDE_GRID or fewer

layout(location = 0) out vec4 guide;  // RGBA32F: rgb = mean guide colour, a = 1/m (0: none)

void main() {
    ivec2 q = lo_origin + ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(color, 0) - 1;
    vec3 sum = vec3(0.0);
    for (int j = 0; j < grid; ++j) {
        for (int i = 0; i < grid; ++i) {
            vec2 at = (vec2(q) + (vec2(i, j) + 0.5) / float(grid)) * hi_per_lo;
            ivec2 px = clamp(ivec2(floor(at)) - window_origin, ivec2(0), last);
            sum += guide_colour(texelFetch(color, px, 0).rgb);
        }
    }
    ivec2 qd = clamp(q, ivec2(0), textureSize(depth, 0) - 1);
    float z = texelFetch(depth, qd, 0).r;
    float w = (z > 0.0 && z < 1e30) ? 1.0 / z : 0.0;  // NaN, 0, negative, inf: no data
    guide = vec4(sum / float(grid * grid), w);
}
