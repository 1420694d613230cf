// Depth reduce (one pyramid level down): each texel keeps the farthest valid
// inverse depth of its 2x2 block (0 if none is valid). Holes in sensor depth
// are mostly occlusion shadows and dark surfaces that lie on the background,
// so the fill prefers the far side (as realtime/sources/depth.py does on the CPU).
uniform sampler2D finer;  // R32F: metres (RAW_METRES; NaN, <= 0 = no data), else 1/m (0 = none)

layout(location = 0) out float coarse;  // R32F inverse depth, 1/m; 0 = no data

float inverse_depth(float v) {
#if RAW_METRES
    return (v > 0.0 && v < 1e30) ? 1.0 / v : 0.0;  // NaN, 0, negative, inf: no data
#else
    return v;
#endif
}

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * 2;
    ivec2 last = textureSize(finer, 0) - 1;
    float farthest = 0.0;
    for (int i = 0; i < 4; ++i) {
        float w = inverse_depth(texelFetch(finer, min(base + ivec2(i & 1, i >> 1), last), 0).r);
        if (w > 0.0 && (farthest == 0.0 || w < farthest)) farthest = w;
    }
    coarse = farthest;
}
