"""The layout-file contract (docs/layout-format.md) and the small helpers both halves of tsne-gallery share.

embed writes layout files, the sketches read them; both import this package, and it imports neither.

- names:     format, version, layout and state names
- contract:  build / write / read a layout file; validate: every field's type, range and size
- paths:     image and atlas paths confined to their folders
- display:   the t-SNE state as displayed (tsne_display, tsne_image_size) and the fit into the grid's box
- sheets:    atlas sheet digests and the check that the files on disk are the ones a layout names
- errors:    UserError (one line for the user, no traceback), LayoutFileError, WriteError
- atomic:    write a file so that readers see the old one or the complete new one; clean up after killed writers
- regular:   open only regular files (never a FIFO or device)
- jsonfile:  read a JSON file the user named, every failure as one line
- printable: text from files made safe to print
- recipe_text: a layout's recorded recipe in one line
"""

from layoutfile.atomic import atomic_path, remove_stale_temp_files, write_bytes_atomic, write_text_atomic
from layoutfile.contract import build_layout, cell_origin, layout_arrays, read_layout, write_layout
from layoutfile.display import display_arrays, fit_into_box, tsne_world
from layoutfile.errors import LayoutFileError, UserError, WriteError
from layoutfile.jsonfile import read_json_file
from layoutfile.names import FORMAT, LAYOUTS, STATES, VERSION, layout_names, toggle
from layoutfile.paths import atlas_paths, confined, image_path
from layoutfile.printable import printable
from layoutfile.recipe_text import describe_recipe
from layoutfile.regular import NotRegularFileError, open_regular
from layoutfile.sheets import check_sheets, digest_bytes, file_digest
from layoutfile.validate import validate_layout

__all__ = ["FORMAT", "LAYOUTS", "STATES", "VERSION", "LayoutFileError", "NotRegularFileError", "UserError",
           "WriteError", "atlas_paths", "atomic_path", "build_layout", "cell_origin", "check_sheets", "confined",
           "describe_recipe",
           "digest_bytes", "display_arrays", "file_digest", "fit_into_box", "image_path", "layout_arrays", "layout_names",
           "open_regular", "printable",
           "read_json_file", "read_layout", "remove_stale_temp_files", "toggle", "tsne_world", "validate_layout",
           "write_bytes_atomic", "write_layout", "write_text_atomic"]
