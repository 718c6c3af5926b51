// Passphrase strength (sign-up): zxcvbn 4.4.2, Dropbox's estimator of how many guesses a
// cracker needs (dictionaries of common passwords, names and words, keyboard walks, dates,
// l33t). Bundled on its own (dist/strength.js): its dictionaries are most of the pages' weight,
// so the sign-up page loads it after it is shown and the log-in page never does.
import zxcvbn from 'zxcvbn';

/** zxcvbn's scores 0-4; sign-up needs at least this one ("good": ~10^8 guesses or more). */
export const MIN_SCORE = 3;

/**
 * zxcvbn's time grows quickly with length; a passphrase is judged on its first characters
 * (100 already make any sensible passphrase "strong").
 */
export const MAX_CHECKED_CHARS = 100;

export const LABELS = ['Very weak', 'Weak', 'Fair', 'Good', 'Strong'];

/**
 * What zxcvbn should treat as known to an attacker: the e-mail (whole, its local part and its
 * pieces), the names, and the server's and product's names. Empty and 1-letter parts are dropped.
 */
export function userInputsFor({ email = '', firstName = '', lastName = '', serverName = '' } = {}) {
  const mail = String(email).trim().toLowerCase();
  const local = mail.split('@')[0] || '';
  const domain = mail.split('@')[1] || '';
  const words = [
    mail,
    local,
    ...local.split(/[._+-]+/),
    ...domain.split('.'),
    String(firstName).trim(),
    String(lastName).trim(),
    ...String(serverName).trim().split(/\s+/),
    'insomnia',
    'hypnos',
  ];
  return [...new Set(words.filter((word) => word.length > 1))].slice(0, 32);
}

/**
 * Scores a passphrase: {score 0-4, label, acceptable, warning, suggestions}. Every field is plain
 * text for the page to show with textContent.
 */
export function passphraseStrength(passphrase, userInputs = []) {
  const text = String(passphrase).slice(0, MAX_CHECKED_CHARS);
  const result = zxcvbn(text, userInputs);
  return {
    score: result.score,
    label: LABELS[result.score],
    acceptable: result.score >= MIN_SCORE,
    warning: result.feedback.warning || '',
    suggestions: result.feedback.suggestions || [],
  };
}
