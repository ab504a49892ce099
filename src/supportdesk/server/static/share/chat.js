/** The chat on the customer's page: lines as the relay delivers them, and a form to write. */

export const CHAT_MAX = 2000;

export class ChatView {
  /**
   * @param {HTMLOListElement} list
   * @param {HTMLFormElement} form
   * @param {(key: string) => string} word
   * @param {(text: string) => boolean} send  false when the link is down
   */
  constructor(list, form, word, send) {
    this.list = list;
    this.word = word;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = form.elements.namedItem("text");
      const text = input.value.trim().slice(0, CHAT_MAX);
      if (text && send(text)) input.value = "";
    });
  }

  /** One `chat` message from the relay (the customer's own lines come back too). */
  add(message) {
    const line = document.createElement("li");
    const mine = message.from === "customer";
    line.className = mine ? "mine" : "theirs";
    const who = document.createElement("strong");
    who.textContent = mine ? this.word("you") : message.name || this.word("agent");
    line.append(who, ": ", String(message.text ?? ""));
    this.list.append(line);
    this.list.scrollTop = this.list.scrollHeight;
  }
}
