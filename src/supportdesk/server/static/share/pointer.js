/**
 * The agent's pointer on the customer's thumbnail: the relay sends `x`, `y` as fractions
 * (0..1) of the shared picture and `down`; null x or y hides the marker.
 */

/** Where the marker goes, as CSS percentages of the picture, or null to hide it. */
export function pointerPlace(message) {
  const { x, y } = message ?? {};
  if (typeof x !== "number" || typeof y !== "number") return null;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return { left: `${(clamp(x) * 100).toFixed(2)}%`, top: `${(clamp(y) * 100).toFixed(2)}%` };
}

/** The marker element ("Hier zeigt Ihr Berater") over the thumbnail. */
export class PointerMarker {
  constructor(element) {
    this.element = element;
  }

  /** Apply one `pointer` message. */
  show(message) {
    const place = pointerPlace(message);
    if (place === null) {
      this.hide();
      return;
    }
    this.element.style.left = place.left;
    this.element.style.top = place.top;
    this.element.classList.toggle("down", message.down === true);
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
  }
}
