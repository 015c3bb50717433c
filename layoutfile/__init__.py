"""The layout-file contract (docs/layout-format.md) and the small helpers both halves of tsne-gallery share.

embed writes layout files, the sketches read them; both import this package, and it imports neither.

- contract: format, version, layout and state names, build / validate / write / read a layout file
- display:  the t-SNE state as displayed (tsne_display, tsne_image_size) and the fit into the grid's box
- atlas_index: every image's atlas_sheet / atlas_cell checked against the atlas levels
- errors:   UserError (one line for the user, no traceback) and LayoutFileError
- atomic:   write a file so that readers see the old one or the complete new one
- jsonfile: read a JSON file the user named, every failure as one line
"""

from layoutfile.atomic import atomic_path, write_text_atomic
from layoutfile.contract import (FORMAT, LAYOUTS, STATES, VERSION, build_layout, cell_origin, layout_arrays,
                                 read_layout, toggle, validate_layout, write_layout)
from layoutfile.display import display_arrays, fit_into_box, tsne_world
from layoutfile.errors import LayoutFileError, UserError
from layoutfile.jsonfile import read_json_file

__all__ = ["FORMAT", "LAYOUTS", "STATES", "VERSION", "LayoutFileError", "UserError", "atomic_path", "build_layout",
           "cell_origin", "display_arrays", "fit_into_box", "layout_arrays", "read_json_file", "read_layout", "toggle",
           "tsne_world", "validate_layout", "write_layout", "write_text_atomic"]
