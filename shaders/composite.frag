// Composite (full resolution): the half-res layers over a full-res "slight
// focus" resolve. Compiled once per tile class (see composite.vert): the
// copy class (COPY_TILES), and one program for each combination of the tile
// flags (TILE_FLAGS). A software rasteriser such as llvmpipe runs every
// instruction of a shader whichever branch a pixel takes, so each class gets
// only the code it needs.
//
// A half-res gather cannot draw blur smaller than a few pixels, so pixels
// with |CoC| <= SLIGHT_COC are resolved here at full res, with the same
// two-layer rules as gather.frag over every pixel within SLIGHT_COC / 2 (the
// largest disc that can reach them from that class). Discs larger than that
// come from the half-res layers: the foreground layer is laid over
// everything; the background layer is what lies behind a pixel with larger
// blur, upsampled bilaterally (bilinear weights times CoC similarity) so a
// blurred background never bleeds over a sharp edge.
#include "dof_common.glsl"

uniform sampler2D prepared;    // Prepare: rgb linear, a = signed CoC
uniform sampler2D foreground;  // Gather target 0: rgb premultiplied, a = coverage
uniform sampler2D background;  // Gather target 1: rgb, a = signed CoC
uniform sampler2D sprites_fg;  // Scatter target 0: sprites in front of the focal plane
uniform sampler2D sprites_bg;  // Scatter target 1: sprites behind it

layout(location = 0) out vec4 result;  // Composite (realtime/passes/composite.py)

uniform vec3 slight_taps[SLIGHT_TAPS];  // offsets within SLIGHT_COC / 2 + 0.5 px, with distance

#if (TILE_FLAGS & FLAG_SLIGHT) != 0
// Slight-focus resolve at q: foreground (discs with FG_MIN < -CoC <= SLIGHT_COC)
// over the normalised background, both with per-pixel disc coverage.
vec3 slight_focus(ivec2 q, float centre, vec3 sharp) {
    ivec2 last = textureSize(prepared, 0) - 1;
    float centre_r = max(centre, 0.0) * 0.5;
    vec4 fg = vec4(0.0);
    vec4 bg = vec4(0.0);
    float shape = aperture_area(1.0);  // hoisted out of the loop
    for (int i = 0; i < SLIGHT_TAPS; ++i) {
        vec3 tap = slight_taps[i];  // (x, y, distance), px
        ivec2 p = clamp(q + ivec2(tap.xy), ivec2(0), last);
        vec4 t = texelFetch(prepared, p, 0);
        vec3 c = t.rgb;
        float k = t.a;
        float r = abs(k) * 0.5;
        bool front = k < -FG_MIN;
        float reach_r = (front || k <= centre) ? r : min(r, centre_r);
        // discs larger than SLIGHT_COC are in the half-res layers instead
        float w = clamp(reach_r - tap.z + 0.5, 0.0, 1.0) / max(shape * r * r, 1.0)
                * float(k >= -SLIGHT_COC);
        fg += front ? vec4(c * w, w) : vec4(0.0);
        bg += front ? vec4(0.0) : vec4(c * w, w);
    }
    vec3 behind = bg.a > 0.0 ? bg.rgb / bg.a : sharp;
    float alpha = min(fg.a, 1.0);
    return fg.rgb / max(fg.a, 1.0) + (1.0 - alpha) * behind;
}

#endif

vec3 upsampled_background(ivec2 q, float coc) {
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
    return sum / total;
}

void main() {
    ivec2 q = ivec2(gl_FragCoord.xy);
    vec4 here = texelFetch(prepared, q, 0);
    vec3 sharp = here.rgb;
#if COPY_TILES
    result = vec4(sharp, 1.0);  // no blur reaches this tile
#else
    float coc = here.a;
    vec2 half_uv = (vec2(q) + 0.5) * 0.5 / vec2(textureSize(foreground, 0));
    vec3 behind;
    if (abs(coc) <= SLIGHT_COC) {
#if (TILE_FLAGS & FLAG_SLIGHT) != 0
        behind = slight_focus(q, coc, sharp);
#else
        behind = sharp;  // no slight blur around: this pixel is in focus
#endif
    } else {
#if (TILE_FLAGS & FLAG_NARROW) != 0
        behind = texture(background, half_uv).rgb;  // no edge nearby: plain bilinear
#else
        behind = upsampled_background(q, coc);
#endif
    }
    vec4 fg = texture(foreground, half_uv);
#if (TILE_FLAGS & FLAG_SPRITES) != 0
    behind += texelFetch(sprites_bg, q, 0).rgb;
    fg.rgb += texelFetch(sprites_fg, q, 0).rgb;
#endif
    result = vec4(fg.rgb + (1.0 - fg.a) * behind, 1.0);
#endif
}
