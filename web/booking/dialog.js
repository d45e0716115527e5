// The "Prise de rendez-vous" question before a slot is booked: a native modal <dialog>
// (focus kept inside, Escape answers "Non"), built once per page.
import { h } from '../dom.js';
import { t } from '../i18n.js';

let dialog = null;
let settle = null;

function build() {
  const title = h('h2', { id: 'slot-dialog-title' }, t('booking.dialog.title'));
  const question = h('p', { id: 'slot-dialog-question', class: 'dialog-question' });
  const yes = h('button', { type: 'button', dataset: { testid: 'slot-yes' } }, t('booking.dialog.yes'));
  const no = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'slot-no' } }, t('booking.dialog.no'));
  dialog = h('dialog', {
    class: 'slot-dialog',
    'aria-labelledby': 'slot-dialog-title',
    'aria-describedby': 'slot-dialog-question',
    dataset: { testid: 'slot-dialog' },
  }, title, question, h('div', { class: 'dialog-actions' }, yes, no));
  yes.addEventListener('click', () => dialog.close('yes'));
  no.addEventListener('click', () => dialog.close('no'));
  // Escape closes the dialog with an empty returnValue: that is a "Non".
  dialog.addEventListener('close', () => {
    const answer = dialog.returnValue === 'yes';
    const done = settle;
    settle = null;
    done?.(answer);
  });
  document.body.append(dialog);
}

/**
 * Asks `question` ("Voulez-vous sélectionner un créneau … ?") and resolves to true
 * for "Oui", false for "Non" or Escape. The caller puts the focus where it belongs next.
 */
export function askSlot(question) {
  if (!dialog) build();
  dialog.querySelector('.dialog-question').textContent = question;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    settle = resolve;
    dialog.showModal();
    dialog.querySelector('[data-testid="slot-yes"]').focus();
  });
}
