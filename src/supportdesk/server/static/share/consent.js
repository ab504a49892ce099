/**
 * Whether the relay asks consent to exactly the text this page shows: same version, and
 * the SHA-256 of the text (sent as `consent_sha256`, or computed here from
 * `consent_text`) equal to the one the server rendered into the page.
 */

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param {object} request  the relay's `consent_request`
 * @param {{version: string, sha256: string}} shown  what this page shows
 */
export async function consentMatches(request, shown) {
  if (request.mode !== undefined && request.mode !== "browser") return false;
  if (request.consent_version !== shown.version) return false;
  let checked = false;
  if (request.consent_sha256 !== undefined) {
    if (request.consent_sha256 !== shown.sha256) return false;
    checked = true;
  }
  if (request.consent_text !== undefined) {
    if (typeof request.consent_text !== "string") return false;
    if ((await sha256Hex(request.consent_text)) !== shown.sha256) return false;
    checked = true;
  }
  return checked;
}

/** The page's answer: `decision` "yes", or "no" with why (`declined`, `picker_cancelled`). */
export function consentAnswer(shown, decision, reason) {
  const answer = {
    type: "consent",
    decision,
    consent_version: shown.version,
    consent_sha256: shown.sha256,
  };
  if (decision === "no") answer.reason = reason;
  return answer;
}
