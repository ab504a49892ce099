// A fix for noVNC's Tight decoding after a zlib stream reset, loaded before any viewer.
//
// noVNC's vendored pako sets the window size to 0 on inflateReset but keeps the old
// window buffer, and allocates (and sizes) the window only when there is none; so after
// a reset of a stream that was used before, back-references across rectangles fail
// ("zlib inflate failed"). zlib itself sizes the window again. Recordings reset all four
// streams at every keyframe, and the applet restarts its streams after each keyframe,
// so both the player and the live view need this. Dropping the buffer on reset makes
// pako allocate a correctly sized window again.
import Inflator from "/novnc/core/inflator.js";

const reset = Inflator.prototype.reset;
Inflator.prototype.reset = function resetWithWindow() {
  reset.call(this);
  this.strm.state.window = null;
};
