// Image quads that fly: each vertex carries both ends of its image's flight (world units, one grid
// cell = 1) and the image's start delay; the position at this frame is computed here, so the CPU
// does the same small amount of work per frame for 1,000 or 100,000 images.
// ease() must match sketches/lib/animator.py (EASINGS, same order).

uniform vec2 viewScale;    // clip = world * viewScale + viewOffset
uniform vec2 viewOffset;
uniform float elapsed;     // seconds since the flight started
uniform float moveTime;    // seconds one image flies once its delay has passed
uniform float easing;      // index into animator.EASINGS
uniform float imageSize;   // side of an image in world units

attribute vec2 aCorner;    // (±0.5, ±0.5)
attribute vec2 aUV;        // texture coordinate of this corner in the atlas sheet
attribute vec2 aFrom;
attribute vec2 aTo;
attribute float aDelay;

varying vec2 vUV;

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
    float progress = ease((elapsed - aDelay) / moveTime);
    vec2 world = mix(aFrom, aTo, progress) + aCorner * imageSize;
    gl_Position = vec4(world * viewScale + viewOffset, 0.0, 1.0);
    vUV = aUV;
}
