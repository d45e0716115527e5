// The message catalogue of the pages: French by default, English on request
// (?lang=en, or the browser's first language when it is English).
const asked = new URLSearchParams(location.search).get('lang');
const wanted = asked || ((navigator.language || 'fr').startsWith('en') ? 'en' : 'fr');
export const lang = wanted === 'en' ? 'en' : 'fr';
const messages = await (await fetch(`/static/i18n/${lang}.json`)).json();

/** The text of a message key (the key itself when missing, so gaps are visible). */
export function t(key) {
  return messages[key] ?? key;
}

/** A message with `{name}` placeholders filled from `values`. */
export function tf(key, values) {
  return t(key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A link to another page of ours that keeps the language asked for in the address. */
export function withLang(url) {
  if (!asked) return url;
  return url + (url.includes('?') ? '&' : '?') + 'lang=' + encodeURIComponent(asked);
}

/**
 * Fills every element carrying data-i18n with its message, and every element
 * carrying data-i18n-label with an aria-label.
 */
export function translate(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('a[data-lang-link]')) el.href = withLang(el.getAttribute('href'));
}
