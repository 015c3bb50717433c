"""Shared pieces of the py5 sketches (class mode, P2D).

- layout:    load + check a layout JSON and its atlas files; world positions of every layout/state
- view:      zoom and pan (world units ↔ screen pixels)
- motion:    easing, stagger and the path of every flight (numpy twin of the vertex shader)
- atlas:     atlas sheets as textures, per-image texture coordinates, cells of a sharper level
- renderer:  textured quads drawn with one draw call per atlas sheet, moved by a vertex shader
- detail:    sharper copies of the few images on screen when zoomed in
- scene:     all of the above behind one object: go_to / draw / image_at
- preflight: display and Java checks before py5 starts its JVM

Nothing here imports py5 at import time, so a sketch can check its input first.
"""
