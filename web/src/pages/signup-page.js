// Entry point of signup.html: create an account (keys made in this browser); when the page was
// opened from the app (a loginKey in the address), log in straight after and hand off.
import { inviteTokenFrom, signUp } from '../signup.js';
import { logIn, parseLoginKey } from '../login.js';
import { $, apiBase, messageOf, setBusy, showError, showHandOff } from './common.js';

function main() {
  const form = $('signup-form');
  // An operator's sign-up link (`?invite=TOKEN`) lets one account in on a server that takes
  // sign-ups only with one.
  const inviteToken = inviteTokenFrom(window.location.search);
  let loginKey = null;
  if (new URLSearchParams(window.location.search).has('loginKey')) {
    try {
      loginKey = parseLoginKey(window.location.search);
    } catch (err) {
      showError(messageOf(err));
    }
  }
  const loginLink = document.getElementById('login-link');
  if (loginLink) loginLink.search = window.location.search;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('');
    const passphrase = $('passphrase').value;
    if (passphrase !== $('passphrase-again').value) {
      showError('The two passphrases differ.');
      return;
    }
    const email = $('email').value;
    setBusy(form, true, 'Creating your keys and account…');
    try {
      await signUp({
        api: apiBase(),
        email,
        firstName: $('first-name').value,
        lastName: $('last-name').value,
        passphrase,
        inviteToken,
      });
      if (loginKey) {
        setBusy(form, true, 'Account created. Logging in…');
        const result = await logIn({ api: apiBase(), email, passphrase, loginKey });
        form.hidden = true;
        showHandOff(result);
      } else {
        form.hidden = true;
        $('done').hidden = false;
      }
      $('passphrase').value = '';
      $('passphrase-again').value = '';
      setBusy(form, false, '');
    } catch (err) {
      setBusy(form, false, '');
      showError(messageOf(err));
    }
  });
}

main();
