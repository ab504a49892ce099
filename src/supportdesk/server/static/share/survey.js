/**
 * The exit survey on the customer's page, offered beside the receipt once a session that
 * ran is over and the relay's `end` carried a survey token. Optional and anonymous: stars,
 * "solved?" and a comment of at most 500 characters, posted once to /api/v1/survey with
 * the token; "Skip" hides it with one click and sends nothing. Nothing of it goes into
 * the receipt.
 */

export const COMMENT_MAX = 500;
export const SURVEY_URL = "/api/v1/survey";

/** The answer in `form` as the API takes it; null parts are left out by the customer. */
export function surveyAnswer(form) {
  const data = new FormData(form);
  const stars = data.get("stars");
  const solved = data.get("solved");
  const comment = String(data.get("comment") ?? "").trim().slice(0, COMMENT_MAX);
  return {
    stars: stars ? Number(stars) : null,
    solved: solved ? String(solved) : null,
    comment: comment || null,
  };
}

/** True when nothing was answered: sending it would be a skip. */
export function isEmpty(answer) {
  return answer.stars === null && answer.solved === null && answer.comment === null;
}

export class ExitSurvey {
  /**
   * @param {HTMLFormElement} form  the survey form (hidden until offered)
   * @param {HTMLElement} done  where "Thank you" is said
   * @param {(key: string) => string} word
   * @param {typeof fetch} post
   */
  constructor(form, done, word, post = (...args) => fetch(...args)) {
    this.form = form;
    this.done = done;
    this.word = word;
    this.post = post;
    this.token = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    form.querySelector("[data-survey-skip]").addEventListener("click", () => this.skip());
  }

  /** Show the survey for `token` (nothing happens without one). */
  offer(token) {
    if (typeof token !== "string" || !token) return;
    this.token = token;
    this.form.hidden = false;
  }

  /** One click: the survey goes away, nothing is sent, nothing stored. */
  skip() {
    this.token = null;
    this.form.hidden = true;
  }

  async #send() {
    const answer = surveyAnswer(this.form);
    if (!this.token || isEmpty(answer)) {
      this.skip();
      return;
    }
    const status = this.form.querySelector("[data-survey-status]");
    const button = this.form.querySelector('button[type="submit"]');
    button.disabled = true;
    let result = "survey_failed";
    try {
      const response = await this.post(SURVEY_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: this.token, ...answer }),
        credentials: "omit",
      });
      if (response.status === 204) result = "survey_thanks";
      else if (response.status === 404) result = "survey_gone";
      else if (response.status === 429) result = "survey_busy";
    } catch {
      result = "survey_failed";
    }
    button.disabled = false;
    if (result === "survey_thanks" || result === "survey_gone") {
      this.token = null;
      this.form.hidden = true;
      this.done.textContent = this.word(result);
      this.done.hidden = false;
      return;
    }
    status.textContent = this.word(result);
  }
}
