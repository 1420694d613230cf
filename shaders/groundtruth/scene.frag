// Ground-truth rasteriser: procedural surface colour and z-depth.
// Outputs (targets of SceneRasterizer, realtime/groundtruth/rasterizer.py): location 0 =
// linear radiance, A = 1 for opaque surfaces (coverage), 0 for glows; location 1 =
// z-depth along the optical axis, metres.
// SURFACE_LIT: Lambertian (view-independent, so every aperture view agrees):
//   radiance = albedo * (AMBIENT + (1 - AMBIENT) * max(dot(n, SUN_DIRECTION), 0)).
// SURFACE_EMISSIVE: radiance = color_a.
// SURFACE_GLOW (light billboard, uv = metres from its centre, sigma = v_material.y):
//   radiance = color_a * exp(-|uv|^2 / (2 sigma^2)); with u_glow_core_only (the
//   depth pass) only the disc of diameter FWHM = FWHM_PER_SIGMA * sigma is drawn.
// TEXTURE_*, SURFACE_*, FWHM_PER_SIGMA, AMBIENT and SUN_DIRECTION are #defines from Python.
in vec3 v_normal;
in vec2 v_uv;
in float v_depth;
flat in vec3 v_color_a;
flat in vec3 v_color_b;
flat in vec3 v_material;

uniform bool u_glow_core_only;

layout(location = 0) out vec4 frag_color;
layout(location = 1) out float frag_depth;

// Integer hash of a lattice point to [0, 1) (bit mixing as in Wellons' lowbias32).
float hash2(ivec2 p) {
    uint h = uint(p.x) * 0x8da6b343u ^ uint(p.y) * 0xd8163841u;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return float(h >> 8) * (1.0 / 16777216.0);
}

// Value noise: hashed lattice values, smoothstep-interpolated.
float value_noise(vec2 p) {
    ivec2 i = ivec2(floor(p));
    vec2 f = fract(p);
    vec2 s = f * f * (3.0 - 2.0 * f);
    float a = mix(hash2(i), hash2(i + ivec2(1, 0)), s.x);
    float b = mix(hash2(i + ivec2(0, 1)), hash2(i + ivec2(1, 1)), s.x);
    return mix(a, b, s.y);
}

// Three octaves, weights 4:2:1, normalised to [0, 1).
float fbm(vec2 p) {
    return (4.0 * value_noise(p) + 2.0 * value_noise(2.0 * p + 17.0)
            + value_noise(4.0 * p + 43.0)) / 7.0;
}

vec3 albedo(int texture_id, vec2 uv, float scale) {
    vec2 p = uv / scale;
    if (texture_id == TEXTURE_CHECKER) {
        float parity = mod(floor(p.x) + floor(p.y), 2.0);
        return mix(v_color_a, v_color_b, parity);
    }
    if (texture_id == TEXTURE_STRIPES) {
        return mix(v_color_a, v_color_b, step(0.5, fract(p.x)));
    }
    if (texture_id == TEXTURE_NOISE) {
        return mix(v_color_a, v_color_b, fbm(p));
    }
    return v_color_a;  // TEXTURE_SOLID
}

void main() {
    int kind = int(v_material.z + 0.5);
    vec3 radiance;
    if (kind == SURFACE_GLOW) {
        float sigma = v_material.y;
        float d2 = dot(v_uv, v_uv);
        float core = 0.5 * FWHM_PER_SIGMA * sigma;
        if (u_glow_core_only && d2 > core * core) {
            discard;
        }
        radiance = v_color_a * exp(-d2 / (2.0 * sigma * sigma));
    } else if (kind == SURFACE_EMISSIVE) {
        radiance = v_color_a;
    } else {
        float lambert = max(dot(normalize(v_normal), SUN_DIRECTION), 0.0);
        float shade = AMBIENT + (1.0 - AMBIENT) * lambert;
        radiance = albedo(int(v_material.x + 0.5), v_uv, v_material.y) * shade;
    }
    frag_color = vec4(radiance, kind == SURFACE_GLOW ? 0.0 : 1.0);
    frag_depth = v_depth;
}
