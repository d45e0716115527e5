// The "Aide" button at the top of the test page and its dialog: what to do when the
// screen stays frozen or the connection drops, and a button to reload the page.
// A native modal <dialog> keeps the focus inside and closes with Escape.
import { t } from '../i18n.js';

/** Wires the help button and dialog; `mode` picks what the dialog says about the timer. */
export function setupHelp(mode) {
  const button = document.getElementById('help');
  const dialog = document.getElementById('help-dialog');
  document.getElementById('help-timer').textContent = t(`help.timer.${mode === 'written' ? 'written' : 'local'}`);
  button.addEventListener('click', () => dialog.showModal());
  document.getElementById('help-close').addEventListener('click', () => dialog.close());
  document.getElementById('help-reload').addEventListener('click', () => location.reload());
  dialog.addEventListener('close', () => button.focus());
}
