/**
 * Who took over, joined or left the session (the relay's `agent_notice`), on the
 * customer's page, and who the customer's agent is now (the `state`'s `agents`). A
 * browser cannot be controlled, so there is nothing to refuse here: no "Ablehnen".
 */

const WORDS = { took_over: "notice_took_over", joined: "notice_joined", left: "notice_left" };

/** The notice's sentence: the page's words with the agent's name in place of {name}. */
export function noticeText(message, word) {
  const key = WORDS[message?.change];
  if (!key) return null;
  return word(key).replace("{name}", String(message.agent_name ?? ""));
}

/** The owner's name in a `state` message's team, or null without one. */
export function ownerName(state) {
  const agents = Array.isArray(state?.agents) ? state.agents : [];
  const owner = agents.find((agent) => agent?.owner === true);
  return owner ? String(owner.name ?? "") : null;
}

/** The notice line above the chat, and the "Ihr Berater" fact that follows the owner. */
export class AgentNotice {
  constructor(line, agentFacts, word) {
    this.line = line;
    this.agentFacts = agentFacts;
    this.word = word;
  }

  show(message) {
    const text = noticeText(message, this.word);
    if (text === null) return;
    this.line.textContent = text; // text, never markup: the name comes from the server
    this.line.hidden = false;
  }

  follow(state) {
    const name = ownerName(state);
    if (!name) return;
    for (const fact of this.agentFacts) fact.textContent = name;
  }
}
