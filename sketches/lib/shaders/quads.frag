#ifdef GL_ES
precision mediump float;
#endif

uniform sampler2D atlas;   // the atlas sheet of the quads being drawn (texture unit 0)
uniform vec3 outlineColour;
varying vec2 vUV;
varying vec2 vCorner;
varying float vInner;

void main() {
    vec3 colour = texture2D(atlas, vUV).rgb;
    bool edge = max(abs(vCorner.x), abs(vCorner.y)) > vInner;
    gl_FragColor = vec4(edge ? outlineColour : colour, 1.0);
}
