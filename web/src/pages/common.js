// DOM helpers shared by the two pages. No inline script or style anywhere: the pages must work
// under `Content-Security-Policy: default-src 'self'`.

export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element;
}

/** The API is the server that serves the page. */
export function apiBase() {
  return window.location.origin;
}

export function showError(message) {
  const area = $('error');
  area.textContent = message;
  area.hidden = !message;
  if (message) area.focus();
}

export function setBusy(form, busy, label) {
  for (const element of form.elements) element.disabled = busy;
  const status = $('status');
  status.textContent = busy ? label : '';
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

export function messageOf(err) {
  return (err && err.message) || String(err);
}
