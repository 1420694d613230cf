// Composite (full resolution): foreground over background, sharp where in focus.
// The half-res background is upsampled bilaterally (bilinear weights times a
// CoC-similarity weight) so a blurred background never bleeds a pixel over a
// sharp edge. Pixels whose |CoC| is inside the focus band keep the full-res
// colour, blending to the gathered blur across FOCUS_BAND_LO..FOCUS_BAND_HI.
#include "dof_common.glsl"

uniform sampler2D color;       // full res, linear RGB
uniform sampler2D depth;       // full res, metres
uniform sampler2D foreground;  // half res: rgb premultiplied, a = coverage
uniform sampler2D background;  // half res: rgb, a = signed CoC
uniform sampler2D reach;       // tile res: (foreground radius, background radius)

layout(location = 0) out vec4 result;  // linear RGB, a = 1

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    vec3 sharp = texelFetch(color, q, 0).rgb;
    vec2 tile_reach = texelFetch(reach, q / TILE_SIZE, 0).xy;
    if (max(tile_reach.x, tile_reach.y) < 0.5 * MIN_GATHER_COC) {
        result = vec4(sharp, 1.0);  // no blur reaches this tile: as cheap as a copy
        return;
    }
    float coc = coc_from_depth(texelFetch(depth, q, 0).r);
    ivec2 half_last = textureSize(background, 0) - 1;
    vec2 pos = (vec2(q) + 0.5) * 0.5 - 0.5;  // in half-res texel centres
    vec2 base = floor(pos);
    vec2 f = pos - base;
    vec3 sum = vec3(0.0);
    float total = 0.0;
    for (int i = 0; i < 4; ++i) {
        ivec2 o = ivec2(i & 1, i >> 1);
        vec4 b = texelFetch(background, clamp(ivec2(base) + o, ivec2(0), half_last), 0);
        vec2 lerp = mix(1.0 - f, f, vec2(o));
        float similar = 1.0 / (1.0 + (b.a - coc) * (b.a - coc));
        float w = lerp.x * lerp.y * similar + 1e-6;
        sum += b.rgb * w;
        total += w;
    }
    vec3 blurred = sum / total;
    float defocus = smoothstep(FOCUS_BAND_LO, FOCUS_BAND_HI, abs(coc));
    vec3 behind = mix(sharp, blurred, defocus);
    vec2 half_uv = (vec2(q) + 0.5) * 0.5 / vec2(half_last + 1);
    vec4 fg = texture(foreground, half_uv);
    result = vec4(fg.rgb + (1.0 - fg.a) * behind, 1.0);
}
