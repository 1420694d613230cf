// Composite (full resolution): the half-res layers over a full-res "slight
// focus" resolve. Compiled once per tile class (see composite.vert): the
// copy class (COPY_TILES), and one program for each combination of the tile
// flags (TILE_FLAGS). A software rasteriser such as llvmpipe runs every
// instruction of a shader whichever branch a pixel takes, so each class gets
// only the code it needs.
//
// A half-res gather cannot draw blur smaller than a few pixels, so pixels
// with small |CoC| are resolved here at full res, with the same two-layer
// rules as gather.frag over every pixel within SLIGHT_COC / 2 (the largest
// disc that can reach them from that class). Larger blur comes from the
// half-res layers: the foreground layer is laid over everything; the
// background layer is what lies behind a pixel with larger blur, upsampled
// bilaterally (bilinear weights times CoC similarity) so a blurred
// background never bleeds over a sharp edge. The two meet in a band, not at
// a threshold: a pixel takes layer_share(coc) of its result from the layers
// and the rest from the full-res resolve, and a near disc fg_share(coc) of
// its coverage from the foreground layer and the rest from the resolve
// (dof_common.glsl), so nothing pops as a rack moves CoCs across the band.
#include "dof_common.glsl"

uniform sampler2D prepared;    // Prepare: rgb linear, a = signed CoC
uniform sampler2D foreground;  // Gather target 0: rgb premultiplied, a = coverage
uniform sampler2D background;  // Gather target 1: rgb, a = signed CoC
uniform sampler2D weight;      // Gather target 2: share of the background left visible by the foreground
uniform sampler2D sprites_fg;  // Scatter target 0: sprites in front of the focal plane
uniform sampler2D sprites_bg;  // Scatter target 1: sprites behind it
uniform sampler2D sprites_half_fg;  // Scatter's half-res layers: the same for large sprites
uniform sampler2D sprites_half_bg;

layout(location = 0) out vec4 result;  // Composite (realtime/passes/composite.py)

uniform vec3 slight_orbits[SLIGHT_ORBITS];  // the window within SLIGHT_COC / 2 + 0.5 px less its centre,
                                            // per orbit of four taps a quarter turn apart: the first
                                            // offset (x, y) and the distance, px, nearest first
flat in float tile_radius;  // composite.vert: the largest blur radius reaching the tile (Dilate)

#if (TILE_FLAGS & FLAG_SLIGHT) != 0
// The foreground and normalised background sums of a slight-focus resolve.
struct Slight {
    vec4 fg;
    vec4 bg;
};

// Adds the disc of the pixel at `at`, `z` px from the centre pixel (signed
// CoC `centre`, hidden_reach `centre_r`), to the sums; `shape` is
// aperture_area(1.0), worked out once.
Slight add_disc(Slight sums, ivec2 at, float z, float centre, float centre_r, float shape) {
    vec4 t = texelFetch(prepared, at, 0);
    float k = t.a;
    float r = abs(k) * 0.5;
    float density = 1.0 / max(shape * r * r, 1.0);
    // in front of -FG_MIN a disc is foreground; from -LAYER_MIN_COC on, a
    // growing share of it is in the half-res foreground layer instead
    bool front = k < -FG_MIN;
    float reach_r = (front || k <= centre) ? r : min(r, centre_r);
    float w = clamp(reach_r - z + 0.5, 0.0, 1.0) * density;
    vec4 c = vec4(t.rgb, 1.0);
    sums.fg += c * (front ? w * (1.0 - fg_share(k)) : 0.0);
    sums.bg += c * (front ? 0.0 : w);
    return sums;
}

// Slight-focus resolve at q: foreground (discs in front of the focal plane,
// the share 1 - fg_share(CoC) the foreground layer leaves) over the
// normalised background, both with per-pixel disc coverage.
vec3 slight_focus(ivec2 q, float centre, vec3 sharp) {
    ivec2 last = textureSize(prepared, 0) - 1;
    float centre_r = hidden_reach(centre);
    float shape = aperture_area(1.0);
    Slight sums = add_disc(Slight(vec4(0.0), vec4(0.0)), q, 0.0, centre, centre_r, shape);
    for (int i = 0; i < SLIGHT_ORBITS; ++i) {
        vec3 orbit = slight_orbits[i];
        // no disc reaching the tile reaches this orbit or any farther one
        // (add_disc's weight is 0 from z >= radius + 0.5); the same for the
        // whole tile, so a software rasteriser leaves the loop for all of it
        if (orbit.z >= tile_radius + 0.5) break;
        // a quarter turn from tap to tap: no table row read per tap, which a
        // software rasteriser pays pixel by pixel when the index differs
        ivec2 offset = ivec2(orbit.xy);
        for (int turn = 0; turn < 4; ++turn) {
            sums = add_disc(sums, clamp(q + offset, ivec2(0), last), orbit.z, centre, centre_r, shape);
            offset = ivec2(-offset.y, offset.x);
        }
    }
    vec3 behind = (sums.bg.rgb + sharp * 1e-9) / (sums.bg.a + 1e-9);
    float alpha = min(sums.fg.a, 1.0);
    return sums.fg.rgb / max(sums.fg.a, 1.0) + (1.0 - alpha) * behind;
}

#endif

// Background layer at q, upsampled bilaterally: bilinear weights times a
// CoC similarity that is 1 within NARROW_COC plus a quarter of the pixel's
// blur and falls off beyond. A tile whose CoCs vary less than that (the
// NARROW flag, dilate.frag) gets exactly plain bilinear, which those tiles
// use instead: the cheaper path gives the same result, so no tile pops when
// its flag changes.
vec3 upsampled_background(ivec2 q, float coc) {
    ivec2 half_last = textureSize(background, 0) - 1;
    vec2 pos = (vec2(q) + 0.5) * 0.5 - 0.5;  // in half-res texel centres
    vec2 base = floor(pos);
    vec2 f = pos - base;
    float alike = NARROW_COC + 0.25 * abs(coc);
    vec3 sum = vec3(0.0);
    float total = 0.0;
    for (int i = 0; i < 4; ++i) {
        ivec2 o = ivec2(i & 1, i >> 1);
        vec4 b = texelFetch(background, clamp(ivec2(base) + o, ivec2(0), half_last), 0);
        vec2 lerp = mix(1.0 - f, f, vec2(o));
        float apart = max(abs(b.a - coc) - alike, 0.0);
        float w = lerp.x * lerp.y / (1.0 + apart * apart) + 1e-6;
        sum += b.rgb * w;
        total += w;
    }
    return sum / total;
}

// What lies behind the foreground layer at q by the half-res layers.
vec3 layers(ivec2 q, float coc, vec2 half_uv) {
#if (TILE_FLAGS & FLAG_NARROW) != 0
    vec3 behind = texture(background, half_uv).rgb;  // no edge nearby: plain bilinear
#else
    vec3 behind = upsampled_background(q, coc);
#endif
#if (TILE_FLAGS & FLAG_SPRITES) != 0
    // Sprites are lights taken out of the gather, which normalises what lies
    // behind a foreground by the share of it left visible: lights behind it
    // are scaled up by the same share (at most to their own colour: a light's
    // own weight bounds the scale).
    vec4 lights = texelFetch(sprites_bg, q, 0) + texture(sprites_half_bg, half_uv);
    behind += lights.rgb / clamp(texelFetch(weight, q / 2, 0).r, max(lights.a, 1e-6), 1.0);
#endif
    return behind;
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
    vec4 fg = texture(foreground, half_uv);
#if (TILE_FLAGS & FLAG_SPRITES) != 0
    fg.rgb += texelFetch(sprites_fg, q, 0).rgb + texture(sprites_half_fg, half_uv).rgb;
#endif
#if (TILE_FLAGS & FLAG_SLIGHT) != 0
    float t = layer_share(coc);
    vec3 behind = vec3(0.0);
    if (t < 1.0) behind = slight_focus(q, coc, sharp) * (1.0 - t);
    if (t > 0.0) behind += layers(q, coc, half_uv) * t;
#else
    // every CoC around lies beyond the band (layers only) or below FG_MIN,
    // where the resolve returns the pixel itself and the layers are unused
    vec3 behind = abs(coc) < FG_MIN ? sharp : layers(q, coc, half_uv);
#endif
    result = vec4(fg.rgb + (1.0 - fg.a) * behind, 1.0);
#endif
}
