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

// Continuity. A rack moves every CoC steadily, so every choice the chain makes
// by CoC is a blend over a band, never a switch at a threshold (a switch pops
// when a CoC crosses it). These weights are continuous in the CoC.

// Share of a pixel's result taken from the half-res layers: 0 up to
// LAYER_MIN_COC (the full-res slight-focus resolve alone), 1 from SLIGHT_COC.
float layer_share(float coc) {
    return smoothstep(LAYER_MIN_COC, SLIGHT_COC, abs(coc));
}

// Share of a disc in the half-res foreground layer: 0 for discs behind the
// focal plane or nearly sharp, 1 from -SLIGHT_COC; the rest of a slightly
// defocused near disc is drawn by the full-res slight-focus resolve.
float fg_share(float coc) {
    return smoothstep(LAYER_MIN_COC, SLIGHT_COC, -coc);
}

// How far a sample behind the pixel can reach it (full-res px). Behind the
// focal plane a pixel's own surface hides what lies behind it beyond its own
// blur radius; a pixel in front of it is a semi-transparent blurred layer
// through which all that lies behind shows, so the reach grows without bound
// (steeply, but continuously) once the pixel is nearer than -FG_MIN.
float hidden_reach(float coc) {
    return 0.5 * abs(coc) + max(-coc - FG_MIN, 0.0) * MAX_COC;
}

// Weight of the hole fill (background samples behind a foreground pixel,
// each weighted by HOLE_WEIGHT within the pixel's own blur radius): phases in
// over one px of CoC past -FG_MIN.
float hole_share(float coc) {
    return clamp(-coc - FG_MIN, 0.0, 1.0);
}
