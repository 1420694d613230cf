// Ground-truth rasteriser: transform camera-space scene vertices (x right, y up,
// z forward, metres) by one clip-from-scene matrix built in
// realtime/groundtruth/rasterizer.py (aperture eye shift, off-axis frustum,
// sub-pixel jitter). Depth pre-pass and colour pass run this same shader, and
// gl_Position is invariant, so the colour pass can test depth with EQUAL.
//
// Light billboards (SURFACE_GLOW; in_uv = metres from the light's centre,
// in_material.y = sigma) are widened per view by the aperture reconstruction
// filter: the gap between neighbouring aperture samples, u_glow_spread_m at the
// lens, seen through the focal plane at depth z is u_glow_spread_m * |z/zf - 1|
// (similar triangles through the fixed focal-plane window). Adding it in
// quadrature to sigma and scaling the peak by sigma^2 / sigma_eff^2 keeps the
// glow's energy (color * 2 pi sigma^2) and fills the gaps between the sample
// copies of a bokeh disc. In focus, or with u_glow_spread_m = 0, nothing changes.
in vec3 in_position;   // camera space, metres
in vec3 in_normal;     // unit normal of the lit side
in vec2 in_uv;         // texture coordinates, metres along the surface
in vec3 in_color_a;    // linear RGB (emitted radiance if emissive)
in vec3 in_color_b;    // linear RGB
in vec3 in_material;   // (texture id, texture scale_m or glow sigma_m, SURFACE_* kind)

uniform mat4 u_clip_from_scene;
uniform float u_glow_spread_m;  // aperture filter width at the lens, metres (0 = off)
uniform float u_focus_m;        // focal distance zf, metres

invariant gl_Position;

out vec3 v_normal;
out vec2 v_uv;
out float v_depth;
flat out vec3 v_color_a;
flat out vec3 v_color_b;
flat out vec3 v_material;

void main() {
    vec3 position = in_position;
    v_uv = in_uv;
    v_color_a = in_color_a;
    v_material = in_material;
    if (int(in_material.z + 0.5) == SURFACE_GLOW) {
        float sigma = in_material.y;
        float spread = u_glow_spread_m * abs(in_position.z / u_focus_m - 1.0);
        float sigma_eff = sqrt(sigma * sigma + spread * spread);
        v_uv = in_uv * (sigma_eff / sigma);
        position.xy += v_uv - in_uv;
        v_color_a = in_color_a * (sigma * sigma) / (sigma_eff * sigma_eff);
        v_material.y = sigma_eff;
    }
    v_normal = in_normal;
    // z-depth along the optical axis: every aperture eye lies in the z = 0 plane,
    // so the camera-space z is the depth in every view.
    v_depth = position.z;
    v_color_b = in_color_b;
    gl_Position = u_clip_from_scene * vec4(position, 1.0);
}
