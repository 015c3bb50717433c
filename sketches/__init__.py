"""tsne-gallery's living half: py5 sketches that animate a layout file.

- gallery.py, record.py:                 command lines (`tsne-gallery`, `tsne-gallery-record`); they check
                                          input, display and Java before anything imports py5
- gallery_sketch.py, recorder_sketch.py: the py5.Sketch classes, imported once those checks pass
- lib/:                                  the library the sketches share (no py5 at import time)
"""
