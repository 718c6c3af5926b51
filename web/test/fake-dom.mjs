// Just enough DOM for the bundled page scripts to run in Node against the real server (no
// browser): the elements with an id in the page's HTML, their attributes as written, `hidden`,
// `disabled`, `value`, `textContent`, listeners, and a form's controls. The page code keeps to
// these (see src/pages/common.js).
import { readFileSync } from 'node:fs';

/** Attributes of one start tag: {name: value}, a bare attribute as ''. */
function attributesOf(tag) {
  const attributes = {};
  for (const [, name, , quoted, bare] of tag.matchAll(/\s([a-zA-Z-:]+)(=("([^"]*)"|(\S+)))?/g)) {
    attributes[name] = quoted ?? bare ?? '';
  }
  return attributes;
}

/**
 * Loads `htmlFile` (a URL) as `window.location` = {origin, search}; returns a Map id → element.
 * The forms' `elements` are the inputs, textareas and buttons between their tags.
 */
export function fakePage(htmlFile, { origin, search }) {
  const html = readFileSync(htmlFile, 'utf8');
  const elements = new Map();
  for (const match of html.matchAll(/<([a-z0-9]+)\b[^>]*\bid="([^"]+)"[^>]*>/g)) {
    const [tag, tagName, id] = match;
    const attributes = attributesOf(tag.slice(tagName.length + 1, -1));
    const listeners = {};
    const element = {
      id,
      tagName: tagName.toUpperCase(),
      index: match.index,
      value: '',
      textContent: '',
      hidden: 'hidden' in attributes,
      disabled: 'disabled' in attributes,
      href: '',
      search: '',
      elements: [],
      focused: false,
      focus() {
        for (const other of elements.values()) other.focused = false;
        this.focused = true;
      },
      select() {},
      getAttribute: (name) => (name in attributes ? attributes[name] : null),
      setAttribute: (name, value) => {
        attributes[name] = String(value);
      },
      removeAttribute: (name) => {
        delete attributes[name];
      },
      hasAttribute: (name) => name in attributes,
      addEventListener(type, fn) {
        (listeners[type] ||= []).push(fn);
      },
      async fire(type) {
        for (const fn of listeners[type] || []) await fn({ preventDefault() {} });
      },
    };
    elements.set(id, element);
  }
  for (const match of html.matchAll(/<form\b[^>]*\bid="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const start = match.index;
    const end = start + match[0].length;
    elements.get(match[1]).elements = [...elements.values()].filter(
      (e) => ['INPUT', 'TEXTAREA', 'BUTTON'].includes(e.tagName) && e.index > start && e.index < end,
    );
  }
  globalThis.window = { location: { origin, search } };
  globalThis.document = { getElementById: (id) => elements.get(id) || null };
  return elements;
}

/** Polls `condition` every 20 ms for up to 60 s. */
export async function waitFor(condition, what) {
  const deadline = Date.now() + 60000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
