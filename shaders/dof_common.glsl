// Shared depth-of-field helpers. Constants (MAX_COC, TILE_SIZE, PI, ...) arrive
// as #defines from realtime/passes/constants.py; never repeat their values here.
// Texture formats and channel layouts are stated once, in the docstring of the
// pass class that allocates them (realtime/passes/<pass>.py); a sampler's
// comment names that pass and what it reads.
//
// Thin lens (derivation in realtime/lens.py): the signed CoC diameter in
// full-resolution pixels is affine in inverse depth,
//     coc(z) = bias + scale / z,   scale = -K, bias = K / zf,
// negative in front of the focal plane, positive behind it. Because it grows
// monotonically with depth, comparing signed CoCs compares depths.

uniform vec2 coc_params;  // (scale, bias)

float coc_from_depth(float depth_m) {
    // Depth that is not a positive number (0, negative, NaN) counts as far
    // away, so no pixel's CoC is ever NaN; inputs are filled upstream anyway.
    if (!(depth_m > 0.0)) return clamp(coc_params.y, -MAX_COC, MAX_COC);
    return clamp(coc_params.y + coc_params.x / depth_m, -MAX_COC, MAX_COC);
}

// Aperture shape: radius of the aperture (circumradius 1) in direction dir.
// A regular polygon of n blades has radius cos(pi/n) / cos(t) at angle t from
// the middle of the nearest side (t folded into [-pi/n, pi/n]); 0 blades is a
// circle. realtime/passes/kernel.py evaluates the same for the gather taps.
uniform int blades;            // 0 = circular
uniform float blade_rotation;  // radians

// Area of the aperture shape of radius r: pi r^2, or (n/2) sin(2 pi/n) r^2
// for the polygon. A disc's energy is spread over this area.
float aperture_area(float r) {
    float shape = blades == 0 ? PI : 0.5 * float(blades) * sin(2.0 * PI / float(blades));
    return shape * r * r;
}

float aperture_radius(vec2 dir) {
    if (blades == 0) return 1.0;
    float sector = 2.0 * PI / float(blades);
    float t = mod(atan(dir.y, dir.x) - blade_rotation, sector) - 0.5 * sector;
    return cos(PI / float(blades)) / cos(t);
}

// Tiles no blur reaches: the largest radius that can reach the tile (the
// Dilate pass's fg and bg radii, full-res px) is below half of MIN_GATHER_COC,
// a diameter. The gather skips such tiles and the composite copies them, so
// both ask this one question.
bool copy_tile(vec2 reach_radii) {
    return max(reach_radii.x, reach_radii.y) < 0.5 * MIN_GATHER_COC;
}
