// Reference rasteriser: transform camera-space scene vertices (x right, y up,
// z forward, metres) by one clip-from-scene matrix built in
// realtime/reference/rasterizer.py (aperture eye shift, off-axis frustum,
// sub-pixel jitter). Depth pre-pass and colour pass run this same shader, and
// gl_Position is invariant, so the colour pass can test depth with EQUAL.
in vec3 in_position;   // camera space, metres
in vec3 in_normal;     // unit normal of the lit side
in vec2 in_uv;         // texture coordinates, metres along the surface
in vec3 in_color_a;    // linear RGB (emitted radiance if emissive)
in vec3 in_color_b;    // linear RGB
in vec3 in_material;   // (texture id, texture scale in metres, emissive 0/1)

uniform mat4 u_clip_from_scene;

invariant gl_Position;

out vec3 v_normal;
out vec2 v_uv;
out float v_depth;
flat out vec3 v_color_a;
flat out vec3 v_color_b;
flat out vec3 v_material;

void main() {
    v_normal = in_normal;
    v_uv = in_uv;
    // z-depth along the optical axis: every aperture eye lies in the z = 0 plane,
    // so the camera-space z is the depth in every view.
    v_depth = in_position.z;
    v_color_a = in_color_a;
    v_color_b = in_color_b;
    v_material = in_material;
    gl_Position = u_clip_from_scene * vec4(in_position, 1.0);
}
