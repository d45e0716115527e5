// The CSV import (POST /api/v1/candidates/import, text/csv): good rows are imported,
// each bad row comes back as "ligne N : raison". How many were imported is a status of
// its own (#import-done); the refused rows and the failures go in the box below it.
import { apiText } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';

/** Wires the import form; `onImported()` refreshes the table. */
export function setupImport(form, onImported) {
  const input = form.querySelector('#csv-input');
  const file = form.querySelector('#csv-file');
  const done = form.querySelector('#import-done');
  const result = form.querySelector('#import-result');
  const button = form.querySelector('[data-testid="csv-import"]');

  const say = (kind, ...content) => {
    result.className = `form-status ${kind}`;
    result.replaceChildren(...content.flat().filter(Boolean));
  };
  /** The count of imported candidates (a success when there is any), or nothing. */
  const sayDone = (imported) => {
    done.className = `form-status ${imported > 0 ? 'ok' : ''}`;
    done.textContent = imported === null ? '' : imported === 1 ? t('centre.import.one') : tf('centre.import.count', { n: imported });
  };

  // A chosen file is read into the text area, where it can be checked before sending.
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    input.value = await chosen.text();
    sayDone(null);
    say('', tf('centre.import.loaded', { name: chosen.name }));
  });
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      input.setAttribute('aria-invalid', 'true');
      sayDone(null);
      say('error', t('centre.import.empty'));
      input.focus();
      return;
    }
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    sayDone(null);
    say('', t('centre.import.sending'));
    const res = await apiText('POST', '/api/v1/candidates/import', `${text}\n`, 'text/csv').catch(() => null);
    button.removeAttribute('aria-disabled');
    if (!res?.ok) {
      say('error', !res ? t('journey.network') : `${t('centre.import.failed')} ${res.message}`);
      return;
    }
    const imported = Number(res.data?.imported ?? 0);
    const errors = Array.isArray(res.data?.errors) ? res.data.errors : [];
    sayDone(imported);
    if (errors.length) {
      say('error',
        h('p', {}, errors.length === 1 ? t('centre.import.error_one') : tf('centre.import.errors', { n: errors.length })),
        h('ul', {}, errors.map((e) => h('li', { dataset: { testid: `import-error-${e.line}` } }, tf('centre.import.error', { line: e.line, reason: e.reason })))));
    } else {
      say('');
    }
    focusStatic(errors.length ? result : done);
    if (imported > 0) onImported();
  });
}
