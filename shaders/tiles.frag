// Tiles (tile resolution): min and max signed CoC over each TILE_SIZE^2 block
// of full-res pixels, read from the half-res setup texture.
uniform sampler2D half_color;  // a = signed CoC

layout(location = 0) out vec2 tile_range;  // (min signed CoC, max signed CoC)

const int HALF_TILE = TILE_SIZE / 2;

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * HALF_TILE;
    ivec2 last = textureSize(half_color, 0) - 1;
    float lo = MAX_COC;
    float hi = -MAX_COC;
    for (int y = 0; y < HALF_TILE; ++y) {
        for (int x = 0; x < HALF_TILE; ++x) {
            float k = texelFetch(half_color, min(base + ivec2(x, y), last), 0).a;
            lo = min(lo, k);
            hi = max(hi, k);
        }
    }
    tile_range = vec2(lo, hi);
}
