// DOM helpers shared by the two pages. No inline script or style anywhere: the pages must work
// under `Content-Security-Policy: default-src 'self'`. The DOM used is kept small (ids,
// attributes, textContent, hidden, disabled, value) so that the Node tests' stand-in DOM can run
// the bundles too.

import { pageParams } from '../params.js';

export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element;
}

/** The API is the server that serves the page. */
export function apiBase() {
  return window.location.origin;
}

/** The server's name as the server wrote it into the page (`--server-name`). */
export function serverName() {
  const element = document.getElementById('server-name');
  return element ? element.textContent : '';
}

/** A message of the page's own or the server's as a sentence: capital first, full stop last. */
export function sentence(message) {
  const text = String(message || '').trim();
  if (!text) return '';
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** The banner above the form: for what concerns no one field (a bad link, the network). */
export function showError(message) {
  const area = $('error');
  area.textContent = message ? sentence(message) : '';
  area.hidden = !message;
  if (message) area.focus();
}

/**
 * Shows (or, with an empty message, clears) the error of one field, next to it: the input is
 * marked aria-invalid and described by the message, so a screen reader reads it with the field.
 */
export function setFieldError(id, message) {
  const input = $(id);
  const errorId = `${id}-error`;
  const area = $(errorId);
  area.textContent = message ? sentence(message) : '';
  area.hidden = !message;
  const described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== errorId);
  if (message) {
    input.setAttribute('aria-invalid', 'true');
    described.push(errorId);
  } else {
    input.removeAttribute('aria-invalid');
  }
  if (described.length) input.setAttribute('aria-describedby', described.join(' '));
  else input.removeAttribute('aria-describedby');
}

/** Clears the banner and every field's error. */
export function clearErrors(fieldIds) {
  showError('');
  for (const id of fieldIds) setFieldError(id, '');
}

/**
 * Shows the first error of `errors` ({fieldId: message}) next to its field, the others next to
 * theirs, and moves the focus to the first. Returns whether there was any.
 */
export function showFieldErrors(errors) {
  const ids = Object.keys(errors).filter((id) => errors[id]);
  for (const id of ids) setFieldError(id, errors[id]);
  if (ids.length) $(ids[0]).focus();
  return ids.length > 0;
}

/** A plausible e-mail address: something, one @, something; the server checks the rest. */
export function emailProblem(value) {
  const email = String(value).trim();
  if (!email) return 'Enter your e-mail address';
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return 'This is not an e-mail address (name@example.com)';
  return '';
}

/**
 * The form while keys are made and proofs computed: every control disabled, the button's
 * spinner, the progress bar and the step said in the status line (announced politely).
 * `step` is {n, of, text}; null ends it.
 */
export function setProgress(form, step) {
  const busy = Boolean(step);
  for (const element of form.elements) element.disabled = busy;
  if (busy) form.setAttribute('aria-busy', 'true');
  else form.removeAttribute('aria-busy');
  const bar = $('progress');
  bar.hidden = !busy;
  if (busy) {
    bar.max = step.of;
    bar.value = step.n;
  }
  $('status').textContent = busy ? `Step ${step.n} of ${step.of}: ${step.text}` : '';
}

/** Shows the code to copy and the "Open Insomnia" link. */
export function showHandOff({ box, deepLink }) {
  const section = $('handoff');
  $('code').value = box;
  const open = $('open-app');
  open.href = deepLink;
  section.hidden = false;
  $('copy').addEventListener('click', async () => {
    const code = $('code');
    try {
      await navigator.clipboard.writeText(code.value);
      $('copied').textContent = 'Copied.';
    } catch {
      code.select();
      $('copied').textContent = 'Select the code and copy it.';
    }
  });
  open.focus();
}

/**
 * The app's query parameters: a provider the server lacks (Google, GitHub, SSO) is said above
 * the form, which stays the way in; the other page's link keeps the query (loginKey and all).
 */
export function applyPageParams(page, otherLinkId) {
  const params = pageParams(window.location.search, page);
  if (params.unavailable) {
    $('provider-unavailable').textContent = params.unavailable;
    $('provider-notice').hidden = false;
  }
  const link = document.getElementById(otherLinkId);
  if (link) link.search = window.location.search;
  return params;
}

export function messageOf(err) {
  return (err && err.message) || String(err);
}
