// Scatter (vertex stage): one point per tile; scatter.geom expands the tiles
// that hold highlights into sprites. (One vertex per half-res texel would
// cost more here than the sprites themselves: vertex work is not parallel
// on a software rasteriser.)
flat out ivec2 tile;

uniform sampler2D tiles;  // Tiles: only its size (the tile grid) is read here

void main() {
    ivec2 grid = textureSize(tiles, 0);
    tile = ivec2(gl_VertexID % grid.x, gl_VertexID / grid.x);
    gl_Position = vec4(0.0, 0.0, 0.0, 1.0);
}
