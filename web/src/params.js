// The query parameters the app adds to the log-in page's address (insomnia-wire-newer.md §2.1):
// `/app/auth-app/?loginKey=…&source_origin=desktop_app[&provider=google|github|email|sso]`.
// Newer apps (11+) send `source_origin` always and `provider` for the button the user pressed
// on the app's "Get started" screen. A self-hosted server has only e-mail + passphrase accounts.

/** The providers the app offers that this server cannot: what to call them on the page. */
const UNAVAILABLE = {
  google: { login: 'Log-in with Google', signup: 'Sign-up with Google' },
  github: { login: 'Log-in with GitHub', signup: 'Sign-up with GitHub' },
  sso: { login: 'Single sign-on (SSO)', signup: 'Single sign-on (SSO)' },
};

/**
 * Reads the page's query: {provider, unavailable, fromApp}. `provider` is 'email', 'google',
 * 'github', 'sso' or null (absent or unknown: the e-mail form, as for 'email'); `unavailable`
 * is the sentence the page shows when the app asked for a provider this server lacks, else null;
 * `fromApp` tells whether the app opened the page (`source_origin=desktop_app`).
 */
export function pageParams(search, page = 'login') {
  const params = new URLSearchParams(typeof search === 'string' ? search : '');
  const asked = (params.get('provider') || '').trim().toLowerCase();
  const provider = asked === 'email' || Object.hasOwn(UNAVAILABLE, asked) ? asked : null;
  const names = provider && provider !== 'email' ? UNAVAILABLE[provider] : null;
  return {
    provider,
    unavailable: names ? `${names[page === 'signup' ? 'signup' : 'login']} is not available on a self-hosted server.` : null,
    fromApp: params.get('source_origin') === 'desktop_app',
  };
}
