// Entry point of signup.html: create an account (keys made in this browser); when the page was
// opened from the app (a loginKey in the address), log in straight after and hand off.
//
// The passphrase must score at least "good" with zxcvbn (strength.js), judged with the e-mail,
// the names and the server's name as words an attacker knows; a weaker one is refused here,
// before any key is made or anything is sent.
import { inviteTokenFrom, signUp } from '../signup.js';
import { logIn, parseLoginKey } from '../login.js';
import {
  $,
  apiBase,
  applyPageParams,
  clearErrors,
  emailProblem,
  messageOf,
  serverName,
  setProgress,
  showError,
  showFieldErrors,
  showHandOff,
} from './common.js';

const FIELDS = ['email', 'first-name', 'last-name', 'passphrase', 'passphrase-again'];
const MAX_NAME = 100;

/** The steps of signup.js's onProgress, then login.js's when the app is waiting. */
function steps(total) {
  return {
    keys: { n: 1, of: total, text: 'making your keys (passphrase keys and an RSA key pair)…' },
    encrypt: { n: 2, of: total, text: 'encrypting your keys…' },
    send: { n: 3, of: total, text: 'creating your account…' },
    srp: { n: 4, of: total, text: 'logging in…' },
    unlock: { n: 4, of: total, text: 'logging in…' },
    seal: { n: 4, of: total, text: 'sealing the code for Insomnia…' },
  };
}

/**
 * zxcvbn is big (~800 KB): it comes as its own module, fetched once the page is up, so the form
 * is usable at once; the meter says so until it is there.
 */
const strengthModule = import(new URL('strength.js', import.meta.url).href);

function userInputs(strength) {
  return strength.userInputsFor({
    email: $('email').value,
    firstName: $('first-name').value,
    lastName: $('last-name').value,
    serverName: serverName(),
  });
}

/** The sentence under the passphrase, and the meter's colour bar (data-score 0-4). */
function describe(result, strength) {
  const parts = [`Strength: ${result.label}.`];
  if (result.warning) parts.push(result.warning.replace(/\.?$/, '.'));
  if (!result.acceptable) {
    if (result.suggestions[0]) parts.push(result.suggestions[0].replace(/\.?$/, '.'));
    parts.push(`Needs “${strength.LABELS[strength.MIN_SCORE]}” or better.`);
  }
  return parts.join(' ');
}

function main() {
  const form = $('signup-form');
  const meter = $('strength');
  const meterText = $('strength-text');
  applyPageParams('signup', 'login-link');
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

  let strength = null;
  const updateMeter = () => {
    const passphrase = $('passphrase').value;
    if (!passphrase) {
      meter.setAttribute('data-score', '');
      meterText.textContent = '';
      return;
    }
    if (!strength) {
      meter.setAttribute('data-score', '');
      meterText.textContent = 'Checking strength…';
      return;
    }
    const result = strength.passphraseStrength(passphrase, userInputs(strength));
    meter.setAttribute('data-score', String(result.score));
    meterText.textContent = describe(result, strength);
  };
  strengthModule.then(
    (module) => {
      strength = module;
      updateMeter();
    },
    () => {
      meterText.textContent = 'The strength checker did not load: reload the page to sign up.';
    },
  );
  for (const id of ['passphrase', 'email', 'first-name', 'last-name']) {
    $(id).addEventListener('input', updateMeter);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(FIELDS);
    const email = $('email').value;
    const firstName = $('first-name').value;
    const lastName = $('last-name').value;
    const passphrase = $('passphrase').value;
    let passphraseProblem = passphrase ? '' : 'Choose a passphrase';
    if (passphrase) {
      let checker;
      try {
        checker = await strengthModule;
      } catch {
        showError('The strength checker did not load: reload the page to sign up');
        return;
      }
      const result = checker.passphraseStrength(passphrase, userInputs(checker));
      if (!result.acceptable) {
        // The meter under it says why and what would help.
        passphraseProblem =
          `This passphrase is too easy to guess (${result.label.toLowerCase()}): ` +
          'add a few uncommon words, not names or your e-mail';
      }
    }
    const invalid = showFieldErrors({
      email: emailProblem(email),
      'first-name': firstName.length > MAX_NAME ? `At most ${MAX_NAME} characters` : '',
      'last-name': lastName.length > MAX_NAME ? `At most ${MAX_NAME} characters` : '',
      passphrase: passphraseProblem,
      'passphrase-again':
        !passphraseProblem && passphrase !== $('passphrase-again').value ? 'The two passphrases differ' : '',
    });
    if (invalid) return;

    const step = steps(loginKey ? 4 : 3);
    setProgress(form, step.keys);
    let created = false;
    try {
      await signUp({
        api: apiBase(),
        email,
        firstName,
        lastName,
        passphrase,
        inviteToken,
        onProgress: (name) => setProgress(form, step[name]),
      });
      created = true;
      if (loginKey) {
        const result = await logIn({
          api: apiBase(),
          email,
          passphrase,
          loginKey,
          onProgress: (name) => setProgress(form, step[name]),
        });
        setProgress(form, null);
        form.hidden = true;
        showHandOff(result);
      } else {
        setProgress(form, null);
        form.hidden = true;
        $('done').hidden = false;
      }
      $('passphrase').value = '';
      $('passphrase-again').value = '';
    } catch (err) {
      setProgress(form, null);
      if (created) {
        // The account exists; only the log-in after it failed.
        form.hidden = true;
        $('done').hidden = false;
        showError(`Your account was created, but logging in failed (${messageOf(err)}): log in from the app`);
      } else {
        showSignUpFailure(err);
      }
    }
  });
}

/** The server's refusal next to the field it concerns, when it concerns one. */
function showSignUpFailure(err) {
  const message = messageOf(err);
  const code = err && err.code;
  if (code === 'EMAIL_TAKEN' || code === 'SIGNUP_DOMAIN_NOT_ALLOWED' || /^email\b/.test(message)) {
    showFieldErrors({ email: message.replace(/^email\b/, 'The e-mail') });
  } else if (/^firstName\b/.test(message)) {
    showFieldErrors({ 'first-name': message.replace(/^firstName/, 'The first name') });
  } else if (/^lastName\b/.test(message)) {
    showFieldErrors({ 'last-name': message.replace(/^lastName/, 'The last name') });
  } else {
    showError(message);
  }
}

main();
