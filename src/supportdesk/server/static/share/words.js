/**
 * The page's words in its language: the server renders them into
 * `<template data-words>` (one `<span data-word="key">` each); scripts never carry text.
 */

/** A lookup `word(key)`; an unknown key comes back as itself, so a gap shows, not breaks. */
export function readWords(root) {
  const words = new Map();
  const template = root.querySelector("template[data-words]");
  for (const span of template?.content.querySelectorAll("[data-word]") ?? []) {
    words.set(span.dataset.word, span.textContent.trim());
  }
  return (key) => words.get(key) ?? key;
}
