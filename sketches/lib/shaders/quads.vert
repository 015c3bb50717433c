// Image quads that fly: each vertex carries both ends of its image's flight (x, y in world units, one
// grid cell = 1, and the image's side) and the image's start delay; the position and size at this frame
// are computed here, so the CPU does the same small amount of work per frame for 1,000 or 100,000 images.
// ease() and main() are the twins of ease() and path() in sketches/lib/motion.py (EASINGS, same order);
// tests/sketches/test_motion.py renders frames and checks that they agree.

uniform vec2 viewScale;    // clip = world * viewScale + viewOffset
uniform vec2 viewOffset;
uniform float pixelsPerUnit;   // screen pixels per world unit
uniform float outlinePx;   // width of the dark outline drawn inside each image, screen pixels
uniform float elapsed;     // seconds since the flight started
uniform float moveTime;    // seconds one image flies once its delay has passed
uniform float easing;      // index into motion.EASINGS

attribute vec2 aCorner;    // (±0.5, ±0.5)
attribute vec2 aUV;        // texture coordinate of this corner in the atlas sheet
attribute vec3 aFrom;      // (x, y, side) where the flight starts
attribute vec3 aTo;        // (x, y, side) where it ends
attribute float aDelay;

varying vec2 vUV;
varying vec2 vCorner;      // (±0.5, ±0.5) across the quad
varying float vInner;      // half side of the part inside the outline, in vCorner units

float ease(float t) {
    t = clamp(t, 0.0, 1.0);
    float u = 2.0 - 2.0 * t;
    if (easing < 0.5) return t;                                                        // linear
    if (easing < 1.5) return 0.5 - 0.5 * cos(3.14159265358979 * t);                    // sine-in-out
    if (easing < 2.5) return t < 0.5 ? 2.0 * t * t : 1.0 - u * u / 2.0;                // quad-in-out
    if (easing < 3.5) return t < 0.5 ? 4.0 * t * t * t : 1.0 - u * u * u / 2.0;        // cubic-in-out
    if (easing < 4.5) return t < 0.5 ? 16.0 * pow(t, 5.0) : 1.0 - pow(u, 5.0) / 2.0;   // quint-in-out
    if (easing < 5.5) {                                                                // expo-in-out
        if (t <= 0.0) return 0.0;
        if (t >= 1.0) return 1.0;
        return t < 0.5 ? pow(2.0, 20.0 * t - 10.0) / 2.0 : (2.0 - pow(2.0, 10.0 - 20.0 * t)) / 2.0;
    }
    float s = t - 1.0;                                                                 // back-out
    return 1.0 + 2.70158 * s * s * s + 1.70158 * s * s;
}

void main() {
    vec3 placed = mix(aFrom, aTo, ease((elapsed - aDelay) / moveTime));
    vec2 world = placed.xy + aCorner * placed.z;
    gl_Position = vec4(world * viewScale + viewOffset, 0.0, 1.0);
    vUV = aUV;
    vCorner = aCorner;
    vInner = 0.5 - outlinePx / max(placed.z * pixelsPerUnit, 1e-6);
}
