// Copy (any resolution): a texture into a part of the target, texel for texel:
// the Pyramid pass places each level this way.
uniform sampler2D source;
uniform ivec2 origin;  // the target texel the source's texel (0, 0) lands on

layout(location = 0) out vec4 copied;

void main() {
    copied = texelFetch(source, ivec2(gl_FragCoord.xy) - origin, 0);
}
