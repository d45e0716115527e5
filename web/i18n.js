// The message catalogue of the pages: French by default, English on request
// (?lang=en, or the browser's first language when it is English).
const wanted = new URLSearchParams(location.search).get('lang')
  || ((navigator.language || 'fr').startsWith('en') ? 'en' : 'fr');
export const lang = wanted === 'en' ? 'en' : 'fr';
const messages = await (await fetch(`/static/i18n/${lang}.json`)).json();

/** The text of a message key (the key itself when missing, so gaps are visible). */
export function t(key) {
  return messages[key] ?? key;
}

/** Fills every element carrying data-i18n with its message. */
export function translate(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}
