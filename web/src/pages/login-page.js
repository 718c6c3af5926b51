// Entry point of login.html: log in and hand the session to the Insomnia app.
import { logIn, parseLoginKey } from '../login.js';
import { $, apiBase, messageOf, setBusy, showError, showHandOff } from './common.js';

function main() {
  const form = $('login-form');
  let loginKey;
  try {
    loginKey = parseLoginKey(window.location.search);
  } catch (err) {
    showError(messageOf(err));
    for (const element of form.elements) element.disabled = true;
    return;
  }
  const signupLink = document.getElementById('signup-link');
  if (signupLink) signupLink.search = window.location.search;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('');
    setBusy(form, true, 'Logging in…');
    try {
      const result = await logIn({
        api: apiBase(),
        email: $('email').value,
        passphrase: $('passphrase').value,
        loginKey,
      });
      $('passphrase').value = '';
      form.hidden = true;
      showHandOff(result);
      setBusy(form, false, '');
    } catch (err) {
      setBusy(form, false, '');
      showError(messageOf(err));
    }
  });
}

main();
