// Resample (output size): the inputs at a smaller scale for an adaptive-resolution
// frame. Colour is the mean of four bilinear taps spread over the output texel's
// footprint (a box filter over about 4x4 input pixels: enough for scales down to
// a quarter); depth is the input pixel under the output texel's centre, never a
// blend (a blended depth would invent surfaces between foreground and background).
uniform sampler2D color;  // full res, linear RGB, bilinear filtering
uniform sampler2D depth;  // full res, metres

layout(location = 0) out vec4 small_color;  // RGBA32F: linear RGB, a = 1
layout(location = 1) out float small_depth;  // R32F: metres

uniform vec2 out_size;  // the output's size, px

void main() {
    vec2 st = gl_FragCoord.xy / out_size;  // the output texel's centre, 0..1
    vec2 footprint = 0.25 / out_size;  // a quarter of an output texel
    vec3 sum = vec3(0.0);
    for (int i = 0; i < 4; ++i) {
        vec2 corner = vec2(float(i & 1), float(i >> 1)) * 2.0 - 1.0;
        sum += textureLod(color, st + corner * footprint, 0.0).rgb;
    }
    small_color = vec4(0.25 * sum, 1.0);
    ivec2 size = textureSize(depth, 0);
    small_depth = texelFetch(depth, min(ivec2(st * vec2(size)), size - 1), 0).r;
}
