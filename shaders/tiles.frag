// Tiles (tile resolution): min and max signed CoC over each TILE_SIZE^2 block
// of full-res pixels, read from the half-res setup texture, and the largest
// CoC among the block's highlights (0 if it has none).
uniform sampler2D half_color;  // Setup target 0: a = signed CoC
uniform sampler2D highlight;   // Setup target 1: rgb = excess scattered as a sprite

layout(location = 0) out vec4 tile_range;  // Tiles (realtime/passes/tiles.py)

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * HALF_TILE;
    ivec2 last = textureSize(half_color, 0) - 1;
    float lo = MAX_COC;
    float hi = -MAX_COC;
    float sprite = 0.0;
    for (int y = 0; y < HALF_TILE; ++y) {
        for (int x = 0; x < HALF_TILE; ++x) {
            ivec2 texel = min(base + ivec2(x, y), last);
            float k = texelFetch(half_color, texel, 0).a;
            lo = min(lo, k);
            hi = max(hi, k);
            vec4 h = texelFetch(highlight, texel, 0);
            if (dot(h.rgb, vec3(1.0)) > 0.0) sprite = max(sprite, abs(k));
        }
    }
    tile_range = vec4(lo, hi, sprite, 0.0);
}
