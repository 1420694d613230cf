// Display: the composite (or a debug view of it) drawn into a window's letterbox.
// Runs with the viewport set to the letterbox rectangle, so uv spans the image.
// Textures hold the image top row first and a window's row 0 is its bottom row,
// hence the vertical flip. The composite is linear light; the default
// framebuffer stores 8-bit codes, so colour is sRGB-encoded here (IEC 61966-2-1,
// the same function as realtime/sources/images.py linear_to_srgb) and never
// changed otherwise: view VIEW_OFF shows exactly what `rackfocus render` writes.
// VIEW (one of the VIEW_* defines) selects the view at compile time: one small
// program per view, since llvmpipe pays for every branch of a uniform switch.
#include "dof_common.glsl"

in vec2 uv;

uniform sampler2D composite;  // RGBA32F, linear RGB: the depth-of-field result
uniform sampler2D color;      // RGB32F, linear RGB: the sharp input ("before")
uniform sampler2D depth;      // R32F, metres
uniform vec2 inverse_depth_range;  // (1 / far, 1 / near) of the depth map, 1/m
uniform float split_x;        // before/after split: window x (framebuffer px) of the line

layout(location = 0) out vec4 result;  // sRGB-encoded display colour, a = 1

vec3 linear_to_srgb(vec3 x) {
    x = clamp(x, 0.0, 1.0);
    vec3 low = x * SRGB_LINEAR_SLOPE;
    vec3 high = (1.0 + SRGB_ALPHA) * pow(max(x, vec3(SRGB_ENCODE_KNEE)), vec3(1.0 / SRGB_GAMMA))
                - SRGB_ALPHA;
    return mix(high, low, lessThanEqual(x, vec3(SRGB_ENCODE_KNEE)));
}

float luma(vec3 srgb) {
    return dot(srgb, LUMA);
}

// sRGB luma of the composite at an image texel, clamped to the image.
float composite_luma(ivec2 q, ivec2 last) {
    return luma(linear_to_srgb(texelFetch(composite, clamp(q, ivec2(0), last), 0).rgb));
}

void main() {
    vec2 st = vec2(uv.x, 1.0 - uv.y);  // texture coordinates, row 0 = image top
    ivec2 size = textureSize(composite, 0);
    ivec2 last = size - 1;
    ivec2 q = clamp(ivec2(st * vec2(size)), ivec2(0), last);  // the image pixel shown here
    vec3 shown = linear_to_srgb(texture(composite, st).rgb);

#if VIEW == VIEW_DEPTH
    // Inverse depth, white = nearest: uniform steps in dioptres, like the focus ring.
    float inv = 1.0 / texelFetch(depth, q, 0).r;
    float span = max(inverse_depth_range.y - inverse_depth_range.x, 1e-6);
    shown = vec3(clamp((inv - inverse_depth_range.x) / span, 0.0, 1.0));
#elif VIEW == VIEW_COC
    // Signed CoC: warm in front of the focal plane, cool behind, green where in focus;
    // brightness follows sqrt(|CoC| / MAX_COC), over a dimmed image for orientation.
    float coc = coc_from_depth(texelFetch(depth, q, 0).r);
    vec3 tint = (coc < 0.0 ? NEAR_TINT : FAR_TINT) * sqrt(abs(coc) / MAX_COC);
    vec3 false_colour = abs(coc) < IN_FOCUS_COC ? FOCUS_TINT : tint;
    float structure = luma(linear_to_srgb(texelFetch(color, q, 0).rgb));
    shown = false_colour * (COC_VIEW_FLOOR + (1.0 - COC_VIEW_FLOOR) * structure);
#elif VIEW == VIEW_PEAKING
    // Focus peaking: edges of the composite (Sobel on sRGB luma) where the lens puts
    // the pixel in focus; the CoC mask keeps hard-edged bokeh discs from lighting up.
    float coc = coc_from_depth(texelFetch(depth, q, 0).r);
    if (abs(coc) < PEAKING_MAX_COC) {
        float l[9];
        for (int i = 0; i < 9; ++i) {
            l[i] = composite_luma(q + ivec2(i % 3 - 1, i / 3 - 1), last);
        }
        float gx = (l[2] + 2.0 * l[5] + l[8]) - (l[0] + 2.0 * l[3] + l[6]);
        float gy = (l[6] + 2.0 * l[7] + l[8]) - (l[0] + 2.0 * l[1] + l[2]);
        if (0.25 * length(vec2(gx, gy)) > PEAKING_THRESHOLD) {
            shown = PEAKING_COLOUR;
        }
    }
#elif VIEW == VIEW_SPLIT
    // Before (sharp input) left of the line, after (composite) right of it.
    float dx = gl_FragCoord.x - split_x;
    if (abs(dx) < 0.5) {  // a one-pixel line
        shown = vec3(1.0);
    } else if (dx < 0.0) {
        shown = linear_to_srgb(texture(color, st).rgb);
    }
#endif
    result = vec4(shown, 1.0);
}
