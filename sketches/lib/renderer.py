"""Textured image quads drawn straight from vertex buffers: one draw call per atlas sheet.

Each image is a quad of 4 vertices drawn as two indexed triangles. Three buffers hold them: a static
one (corner, texture coordinate) and the triangle indices, written once, and a motion one (start, end,
delay) rewritten only when a new flight starts. The vertex shader (shaders/quads.vert) places the quads every frame, so a frame costs a
handful of Java calls whatever the number of images. The buffers are filled from numpy through
JPype direct buffers (no per-vertex Python or Java calls).
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
MOTION_ATTRIBS = (("aFrom", 2, 0), ("aTo", 2, 8), ("aDelay", 1, 16))
STATIC_STRIDE, MOTION_STRIDE = 16, 20


def load_quad_shader(sketch):
    """The Py5Shader that draws flying image quads."""
    return sketch.load_shader(str(SHADER_DIR / "quads.frag"), str(SHADER_DIR / "quads.vert"))


class QuadBatch:
    """A set of image quads, grouped by texture, in GPU vertex buffers.

    set_quads() fixes which images (in the order given) use which texture and texture rectangle;
    set_motion() uploads their flight; draw() issues one glDrawElements per texture.
    """

    def __init__(self, sketch, shader) -> None:
        self.sketch, self.shader = sketch, shader
        self.PGL = jpype.JClass("processing.opengl.PGL")
        self.buffers: list[int] = []
        self.order = np.zeros(0, np.int64)       # draw position → image (index into the arrays given)
        self.textures: list = []
        self.ranges: list[tuple[int, int, int]] = []   # (texture number, byte offset of first index, index count)
        self.locations: dict[str, int] = {}

    def set_quads(self, textures: list, sheet: np.ndarray, uv: np.ndarray) -> None:
        """Image i is drawn from textures[sheet[i]] at uv[i] = (u0, v0, u1, v1); draws go sheet by sheet.

        `textures` is kept, not copied: an entry may be None until its texture is loaded (not drawn until then).
        """
        self.textures = textures
        sheet = np.asarray(sheet, np.int64)
        self.order = np.argsort(sheet, kind="stable")
        counts = np.bincount(sheet, minlength=len(textures)) if len(sheet) else np.zeros(len(textures), int)
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(textures) else []
        self.ranges = [(s, int(firsts[s]) * 6 * 4, int(counts[s]) * 6)
                       for s in range(len(textures)) if counts[s]]
        uv = np.asarray(uv, np.float32)[self.order]
        data = np.empty((len(sheet), 4, 4), np.float32)
        data[:, :, 0:2] = CORNERS
        right, down = CORNERS[:, 0] > 0, CORNERS[:, 1] > 0
        data[:, :, 2] = np.where(right, uv[:, None, 2], uv[:, None, 0])
        data[:, :, 3] = np.where(down, uv[:, None, 3], uv[:, None, 1])
        self._upload(0, data, self.PGL.STATIC_DRAW)
        indices = TRIANGLES[None, :] + 4 * np.arange(len(sheet), dtype=np.uint32)[:, None]
        self._upload(2, indices, self.PGL.STATIC_DRAW, self.PGL.ELEMENT_ARRAY_BUFFER)

    def set_motion(self, start: np.ndarray, end: np.ndarray, delay: np.ndarray) -> None:
        """Upload the flight of every image (arrays in the order given to set_quads)."""
        n = len(self.order)
        data = np.empty((n, 4, 5), np.float32)
        data[:, :, 0:2] = np.asarray(start, np.float32)[self.order, None, :]
        data[:, :, 2:4] = np.asarray(end, np.float32)[self.order, None, :]
        data[:, :, 4] = np.asarray(delay, np.float32)[self.order, None]
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
                self.shader.set("atlas", self.textures[s])
                shader.bind()
                pgl.drawElements(self.PGL.TRIANGLES, count, self.PGL.UNSIGNED_INT, offset)
                shader.unbind()
            for location in self.locations.values():
                pgl.disableVertexAttribArray(location)
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
