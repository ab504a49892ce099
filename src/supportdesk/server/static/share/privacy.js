/**
 * The customer's "Sichtschutz" in the browser: while it is on, every captured frame is
 * replaced, before it reaches the encoder, by the same neutral picture the support
 * program paints (grey diagonal stripes and "Geschützte Eingabe"), so nothing of the
 * screen is encoded, sent or recorded. The session and the chat go on.
 */

const LIGHT = "#d4d4d4";
const DARK = "#bcbcbc";
const STRIPE = 8;

export class PrivacyScreen {
  /** @param {string} label  the words in the middle, from the page (words.js) */
  constructor(label) {
    this.label = label;
    this.on = false;
    this.canvas = null;
  }

  /** A VideoFrame of the blank picture at `frame`'s size and time (close it after use). */
  blank(frame) {
    const width = frame.displayWidth;
    const height = frame.displayHeight;
    if (!this.canvas || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = new OffscreenCanvas(width, height);
      const g = this.canvas.getContext("2d");
      g.fillStyle = LIGHT;
      g.fillRect(0, 0, width, height);
      g.strokeStyle = DARK;
      g.lineWidth = STRIPE / Math.SQRT2 * 2;
      for (let d = -height; d < width + height; d += STRIPE * 2) {
        g.beginPath();
        g.moveTo(d, 0);
        g.lineTo(d + height, height);
        g.stroke();
      }
      g.fillStyle = "#303030";
      g.font = `bold ${Math.max(16, Math.round(height / 20))}px sans-serif`;
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText(this.label, width / 2, height / 2);
    }
    return new VideoFrame(this.canvas, { timestamp: frame.timestamp });
  }
}
