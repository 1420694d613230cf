// Dilate (tile resolution): the largest blur radius that can reach each tile.
// A neighbour tile's blur reaches this tile when its radius exceeds the gap
// between the two tiles. Foreground samples (CoC < -SLIGHT_COC) spread by their
// own radius. A background sample spreads by its own radius only over pixels
// farther than itself, so a neighbour's background counts only if it holds a
// sample nearer than this tile's farthest pixel: a sharp tile beside a blurred
// background needs no gather.
uniform sampler2D tiles;  // (min signed CoC, max signed CoC)

layout(location = 0) out vec2 reach;  // (foreground radius, background radius), full-res px

void main() {
    ivec2 tile = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(tiles, 0) - 1;
    vec2 own = texelFetch(tiles, tile, 0).xy;
    float fg = max(-own.x, 0.0) * 0.5;
    float bg = max(abs(own.x), abs(own.y)) * 0.5;
    for (int y = -DILATE_TILES; y <= DILATE_TILES; ++y) {
        for (int x = -DILATE_TILES; x <= DILATE_TILES; ++x) {
            ivec2 n = tile + ivec2(x, y);
            if (any(lessThan(n, ivec2(0))) || any(greaterThan(n, last))) continue;
            vec2 range = texelFetch(tiles, n, 0).xy;
            float gap = float(TILE_SIZE) * length(max(abs(vec2(x, y)) - 1.0, 0.0));
            float fg_r = max(-range.x, 0.0) * 0.5;
            if (range.x < -SLIGHT_COC && fg_r > gap) fg = max(fg, fg_r);
            float bg_r = max(range.y, 0.0) * 0.5;
            if (range.x < own.y && bg_r > gap) bg = max(bg, bg_r);
        }
    }
    reach = vec2(fg, bg);
}
