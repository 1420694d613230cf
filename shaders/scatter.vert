// Scatter (vertex stage): one point per half-res texel; highlights become
// point sprites of their CoC diameter, everything else is culled.
#include "dof_common.glsl"

uniform sampler2D highlight;  // half res: rgb excess, a = signed CoC

flat out vec4 sprite;     // rgb intensity per full-res px inside the disc, a = signed CoC
flat out vec2 centre_px;  // sprite centre, half-res px

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
    sprite = vec4(h.rgb * 4.0 / (3.14159265 * radius * radius), h.a);
    centre_px = vec2(texel) + 0.5;
    gl_Position = vec4(centre_px / vec2(size) * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = radius + 2.0;  // diameter in half-res px, plus an anti-aliasing margin
}
