"""Rectangle encoders, one per file, all with the :class:`~.base.Encoder` interface.

* :mod:`.raw` -- Raw (0): pixels as they are.
* :mod:`.copyrect` -- CopyRect (1): "copy from there", for scrolling and moves.
* :mod:`.tight` -- Tight (7): fill, palette, zlib and JPEG sub-encodings.
* :mod:`.pseudo` -- pseudo-encoding numbers, the client's preferences, pseudo-rectangles.
"""

from .base import Encoder, EncodingType
from .copyrect import encode_copyrect
from .pseudo import EncodingPreferences, PseudoEncoding
from .raw import RawEncoder
from .tight import TightEncoder

__all__ = [
    "Encoder",
    "EncodingPreferences",
    "EncodingType",
    "PseudoEncoding",
    "RawEncoder",
    "TightEncoder",
    "encode_copyrect",
]
