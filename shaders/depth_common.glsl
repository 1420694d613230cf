// Helpers of the depth passes: conditioning (depth_fill.frag, depth_refine.frag,
// depth_temporal.frag) and guided upsampling (depth_guide.frag, depth_upsample.frag).

// The colour they compare: sqrt of c / (1 + c), so lights (HDR values of
// tens or hundreds) look like nothing but other lights, and ordinary colours keep
// their contrast (sqrt: roughly even steps of lightness).
vec3 guide_colour(vec3 c) {
    c = max(c, vec3(0.0));
    return sqrt(c / (1.0 + c));
}
