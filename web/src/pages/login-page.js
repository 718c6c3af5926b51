// Entry point of login.html: log in and hand the session to the Insomnia app.
import { logIn, parseLoginKey } from '../login.js';
import {
  $,
  apiBase,
  applyPageParams,
  clearErrors,
  emailProblem,
  messageOf,
  setProgress,
  showError,
  showFieldErrors,
  showHandOff,
} from './common.js';

const FIELDS = ['email', 'passphrase'];

/** What the user sees while each step of the log-in runs (login.js's onProgress steps). */
const STEPS = {
  srp: { n: 1, of: 3, text: 'proving your passphrase to the server (SRP)…' },
  unlock: { n: 2, of: 3, text: 'unlocking your account key…' },
  seal: { n: 3, of: 3, text: 'sealing the code for Insomnia…' },
};

function main() {
  const form = $('login-form');
  applyPageParams('login', 'signup-link');
  let loginKey;
  try {
    loginKey = parseLoginKey(window.location.search);
  } catch (err) {
    showError(messageOf(err));
    for (const element of form.elements) element.disabled = true;
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(FIELDS);
    const email = $('email').value;
    const passphrase = $('passphrase').value;
    const invalid = showFieldErrors({
      email: emailProblem(email),
      passphrase: passphrase ? '' : 'Enter your passphrase',
    });
    if (invalid) return;
    setProgress(form, STEPS.srp);
    try {
      const result = await logIn({
        api: apiBase(),
        email,
        passphrase,
        loginKey,
        onProgress: (step) => setProgress(form, STEPS[step]),
      });
      $('passphrase').value = '';
      setProgress(form, null);
      form.hidden = true;
      showHandOff(result);
    } catch (err) {
      setProgress(form, null);
      // A failed proof concerns the two fields together; it is said at the passphrase, the
      // one to retype. Anything else (the network, too many attempts) goes in the banner.
      if (err && err.status === 401) showFieldErrors({ passphrase: messageOf(err) });
      else showError(messageOf(err));
    }
  });
}

main();
