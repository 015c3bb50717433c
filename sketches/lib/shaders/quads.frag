#ifdef GL_ES
precision mediump float;
#endif

uniform sampler2D atlas;   // the atlas sheet of the quads being drawn
varying vec2 vUV;

void main() {
    gl_FragColor = vec4(texture2D(atlas, vUV).rgb, 1.0);
}
