// Scatter (vertex stage): one point per half-res texel; highlights become
// full-res point sprites of their CoC diameter, everything else is culled.
#include "dof_common.glsl"

uniform sampler2D highlight;  // half res: rgb excess, a = signed CoC
uniform sampler2D color;      // full res, linear RGB (to centre the sprite on the light)
uniform vec2 full_size;       // output size, full-res px

flat out vec4 sprite;     // rgb intensity per full-res px inside the disc, a = signed CoC
flat out vec2 centre_px;  // sprite centre, full-res px

void main() {
    ivec2 size = textureSize(highlight, 0);
    ivec2 texel = ivec2(gl_VertexID % size.x, gl_VertexID / size.x);
    vec4 h = texelFetch(highlight, texel, 0);
    float radius = abs(h.a) * 0.5;  // full-res px
    if (dot(h.rgb, vec3(1.0)) <= 0.0) {
        gl_Position = vec4(-2.0, -2.0, 0.0, 1.0);  // outside the clip volume: culled
        gl_PointSize = 1.0;
        sprite = vec4(0.0);
        centre_px = vec2(0.0);
        return;
    }
    // The texel's excess stands for 4 full-res pixels; spread over the disc
    // area pi r^2 (full-res px) it keeps its energy.
    sprite = vec4(h.rgb * 4.0 / (3.14159265 * max(radius * radius, 0.25)), h.a);
    // Centre on the brightness-weighted centroid of the 2x2 block, so a
    // one-pixel light's disc is not shifted by half a pixel.
    vec3 luma = vec3(0.2126, 0.7152, 0.0722);
    ivec2 last = textureSize(color, 0) - 1;
    vec3 sum = vec3(0.0);
    for (int i = 0; i < 4; ++i) {
        ivec2 p = min(texel * 2 + ivec2(i & 1, i >> 1), last);
        float w = dot(texelFetch(color, p, 0).rgb, luma);
        sum += vec3((vec2(p) + 0.5) * w, w);
    }
    centre_px = sum.z > 0.0 ? sum.xy / sum.z : (vec2(texel) + 0.5) * 2.0;
    gl_Position = vec4(centre_px / full_size * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = 2.0 * radius + 2.0;  // the disc plus an anti-aliasing margin
}
