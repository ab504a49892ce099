/**
 * The customer's receipt of a browser session, made in the browser and never sent to the
 * server: `Fernwartung-<Beratungsnummer>.txt` and a `.json` twin with the same facts as
 * the support program's receipt (applet/receipt.py): number, bank (and the page's host),
 * agent, start, end, duration, what was shared, the recording notice.
 */

export const ZONE = "Europe/Berlin";

/** `Fernwartung-<number>` with anything unsafe for a file name removed. */
export function receiptFileStem(consultationNumber) {
  return "Fernwartung-" + String(consultationNumber).replace(/[^A-Za-z0-9-]/g, "");
}

/** "h:mm:ss (h:mm:ss)", as the program writes it. */
export function formatDuration(milliseconds) {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const two = (n) => String(n).padStart(2, "0");
  return `${hours}:${two(minutes)}:${two(rest)} (h:mm:ss)`;
}

/** A moment in Berlin time: "06.12.2026, 04:16:03 Uhr" (de), "2026-12-06, 04:16:03 CET" (en). */
export function formatLocal(moment, language) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  });
  for (const part of format.formatToParts(moment)) parts[part.type] = part.value;
  const time = `${parts.hour}:${parts.minute}:${parts.second}`;
  if (language === "de") return `${parts.day}.${parts.month}.${parts.year}, ${time} Uhr`;
  return `${parts.year}-${parts.month}-${parts.day}, ${time} ${parts.timeZoneName}`;
}

/** UTC ISO 8601 in whole seconds with a Z, as the program's JSON has it. */
export function isoUtc(moment) {
  return moment.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The labelled facts, in order.
 * @param {{consultationNumber: string, bank: string, bankDomain: string, agentName: string,
 *          startedAt: Date, endedAt: Date, language: string}} receipt
 * @param {(key: string) => string} word
 */
export function receiptFacts(receipt, word) {
  const bank = receipt.bank + (receipt.bankDomain ? ` (${receipt.bankDomain})` : "");
  return [
    [word("consultation_number"), receipt.consultationNumber],
    [word("bank"), bank],
    [word("agent_name"), receipt.agentName],
    [word("start"), formatLocal(receipt.startedAt, receipt.language)],
    [word("end"), formatLocal(receipt.endedAt, receipt.language)],
    [word("duration"), formatDuration(receipt.endedAt - receipt.startedAt)],
    [word("shared"), word("shared_items")],
  ];
}

/** The receipt as text, laid out like the program's. */
export function receiptText(receipt, word) {
  const title = word("receipt_title");
  const facts = receiptFacts(receipt, word);
  const width = Math.max(...facts.map(([label]) => label.length)) + 1;
  const lines = [title, "=".repeat(title.length), ""];
  for (const [label, value] of facts) lines.push(`${(label + ":").padEnd(width)} ${value}`);
  lines.push("", word("recording_notice"), "", word("quote_number"));
  return lines.join("\n") + "\n";
}

/** The same facts for machines: the program's JSON fields, plus how it was shared. */
export function receiptJson(receipt, word) {
  return {
    consultation_number: receipt.consultationNumber,
    bank: receipt.bank,
    bank_domain: receipt.bankDomain,
    agent_name: receipt.agentName,
    started_at: isoUtc(receipt.startedAt),
    ended_at: isoUtc(receipt.endedAt),
    duration_seconds: Math.round((receipt.endedAt - receipt.startedAt) / 1000),
    capabilities: [{ at: isoUtc(receipt.startedAt), capability: "view", granted: true }],
    files: [],
    shared: ["screen_view", "chat", "pointer"],
    way: "browser",
    recording_notice: word("recording_notice"),
    language: receipt.language,
  };
}

/** Blobs and file names for the two downloads. */
export function receiptFiles(receipt, word) {
  const stem = receiptFileStem(receipt.consultationNumber);
  const json = JSON.stringify(receiptJson(receipt, word), null, 2) + "\n";
  return {
    txt: { name: `${stem}.txt`, blob: new Blob([receiptText(receipt, word)], { type: "text/plain;charset=utf-8" }) },
    json: { name: `${stem}.json`, blob: new Blob([json], { type: "application/json" }) },
  };
}
