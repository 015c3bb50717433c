"""Textured image quads drawn straight from vertex buffers: one draw call per atlas sheet.

Each image is a quad of 4 vertices drawn as two indexed triangles. Three buffers hold them: a static
one (corner, texture coordinate), written once, the triangle indices, rewritten when images are hidden
(drawn sharper by the detail layer), and a motion one (start and end (x, y, side), delay) rewritten only
when a new flight starts. The vertex shader (shaders/quads.vert) places and sizes the quads every frame,
so a frame costs a handful of Java calls whatever the number of images. The buffers are filled from numpy
through JPype direct buffers (no per-vertex Python or Java calls).
"""

from __future__ import annotations

from pathlib import Path

import jpype
import jpype.nio
import numpy as np

SHADER_DIR = Path(__file__).parent / "shaders"
CORNERS = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], np.float32)
TRIANGLES = np.array([0, 1, 2, 0, 2, 3], np.uint32)      # two triangles per quad, as corner numbers
STATIC_ATTRIBS = (("aCorner", 2, 0), ("aUV", 2, 8))                      # (name, floats, byte offset)
MOTION_ATTRIBS = (("aFrom", 3, 0), ("aTo", 3, 12), ("aDelay", 1, 24))
STATIC_STRIDE, MOTION_STRIDE = 16, 28


def load_quad_shader(sketch):
    """The Py5Shader that draws flying image quads."""
    return sketch.load_shader(str(SHADER_DIR / "quads.frag"), str(SHADER_DIR / "quads.vert"))


class QuadBatch:
    """A set of image quads, grouped by texture, in GPU vertex buffers.

    set_quads() fixes which images (in the order given) use which texture and texture rectangle;
    set_motion() uploads their flight; hide() leaves some out; draw() issues one glDrawElements per texture.
    """

    def __init__(self, sketch, shader) -> None:
        self.sketch, self.shader = sketch, shader
        self.PGL = jpype.JClass("processing.opengl.PGL")
        self.buffers: list[int] = []
        self.order = np.zeros(0, np.int64)       # draw position → image (index into the arrays given)
        self.sorted_sheet = np.zeros(0, np.int64)   # texture of each draw position
        self.textures: list = []
        self.ranges: list[tuple[int, int, int]] = []   # (texture number, byte offset of first index, index count)
        self.locations: dict[str, int] = {}

    def set_quads(self, textures: list, sheet: np.ndarray, uv: np.ndarray) -> None:
        """Image i is drawn from textures[sheet[i]] (GLTexture) at uv[i] = (u0, v0, u1, v1); draws go sheet by sheet.

        `textures` is kept, not copied: an entry may be None until its texture is loaded (not drawn until then).
        """
        self.textures = textures
        sheet = np.asarray(sheet, np.int64)
        self.order = np.argsort(sheet, kind="stable")
        self.sorted_sheet = sheet[self.order]
        uv = np.asarray(uv, np.float32)[self.order]
        data = np.empty((len(sheet), 4, 4), np.float32)
        data[:, :, 0:2] = CORNERS
        right, down = CORNERS[:, 0] > 0, CORNERS[:, 1] > 0
        data[:, :, 2] = np.where(right, uv[:, None, 2], uv[:, None, 0])
        data[:, :, 3] = np.where(down, uv[:, None, 3], uv[:, None, 1])
        self._upload(0, data, self.PGL.STATIC_DRAW)
        self.hide(np.zeros(0, np.int64))

    def hide(self, images: np.ndarray) -> None:
        """Draw every image except these (indices into the arrays given to set_quads); O(N), not per frame."""
        shown = np.ones(len(self.order), bool)
        shown[np.asarray(images, np.int64)] = False
        positions = np.flatnonzero(shown[self.order])
        counts = np.bincount(self.sorted_sheet[positions], minlength=len(self.textures))
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.ranges = [(s, int(firsts[s]) * 6 * 4, int(counts[s]) * 6) for s in range(len(self.textures)) if counts[s]]
        indices = TRIANGLES[None, :] + 4 * positions.astype(np.uint32)[:, None]
        self._upload(2, indices, self.PGL.STATIC_DRAW, self.PGL.ELEMENT_ARRAY_BUFFER)

    def set_motion(self, start: np.ndarray, end: np.ndarray, delay: np.ndarray) -> None:
        """Upload the flight of every image: start and end (N, 3) (x, y, side), delay (N,), in set_quads' order."""
        n = len(self.order)
        data = np.empty((n, 4, 7), np.float32)
        data[:, :, 0:3] = np.asarray(start, np.float32)[self.order, None, :]
        data[:, :, 3:6] = np.asarray(end, np.float32)[self.order, None, :]
        data[:, :, 6] = np.asarray(delay, np.float32)[self.order, None]
        self._upload(1, data, self.PGL.DYNAMIC_DRAW)

    def _upload(self, which: int, data: np.ndarray, usage: int, target: int | None = None) -> None:
        target = self.PGL.ARRAY_BUFFER if target is None else target
        pgl = self.sketch._instance.beginPGL()
        try:
            if not self.buffers:
                ids = jpype.JClass("java.nio.IntBuffer").allocate(3)
                pgl.genBuffers(3, ids)
                self.buffers = [ids.get(0), ids.get(1), ids.get(2)]
            data = np.ascontiguousarray(data)
            pgl.bindBuffer(target, self.buffers[which])
            pgl.bufferData(target, max(data.nbytes, 4),
                           jpype.nio.convertToDirectBuffer(data) if data.nbytes else None, usage)
            pgl.bindBuffer(target, 0)
        finally:
            self.sketch._instance.endPGL()

    def draw(self, uniforms: dict[str, tuple[float, ...]]) -> None:
        """Draw every quad with the shader's `uniforms` (name → values); one draw call per texture."""
        if not self.ranges:
            return
        for name, values in uniforms.items():
            self.shader.set(name, *values)
        self.shader.set("atlas", 0)   # texture unit 0, where GLTexture.bind puts a sheet
        pgl = self.sketch._instance.beginPGL()
        shader = self.shader._instance
        try:
            if not self.locations:
                shader.bind()
                self.locations = {name: pgl.getAttribLocation(shader.glProgram, name)
                                  for name, _, _ in STATIC_ATTRIBS + MOTION_ATTRIBS}
                shader.unbind()
            for which, attribs, stride in ((0, STATIC_ATTRIBS, STATIC_STRIDE), (1, MOTION_ATTRIBS, MOTION_STRIDE)):
                pgl.bindBuffer(self.PGL.ARRAY_BUFFER, self.buffers[which])
                for name, size, offset in attribs:
                    location = self.locations[name]
                    pgl.enableVertexAttribArray(location)
                    pgl.vertexAttribPointer(location, size, self.PGL.FLOAT, False, stride, offset)
            pgl.bindBuffer(self.PGL.ELEMENT_ARRAY_BUFFER, self.buffers[2])
            for s, offset, count in self.ranges:
                if self.textures[s] is None:
                    continue
                shader.bind()
                self.textures[s].bind(pgl)
                pgl.drawElements(self.PGL.TRIANGLES, count, self.PGL.UNSIGNED_INT, offset)
                shader.unbind()
            for location in self.locations.values():
                pgl.disableVertexAttribArray(location)
            pgl.bindTexture(self.PGL.TEXTURE_2D, 0)
            pgl.bindBuffer(self.PGL.ELEMENT_ARRAY_BUFFER, 0)
            pgl.bindBuffer(self.PGL.ARRAY_BUFFER, 0)
        finally:
            self.sketch._instance.endPGL()

    def dispose(self) -> None:
        """Free the GPU buffers."""
        if self.buffers:
            pgl = self.sketch._instance.beginPGL()
            ids = jpype.JClass("java.nio.IntBuffer").wrap(jpype.JArray(jpype.JInt)(self.buffers))
            pgl.deleteBuffers(len(self.buffers), ids)
            self.sketch._instance.endPGL()
            self.buffers = []
