// The home page's links to each role's pages: the evaluator's console, the reviewer's
// queue, the centre's administration, and for everyone the local mailbox.
import { h } from './dom.js';
import { t, withLang } from './i18n.js';

const PAGES = [
  { roles: ['evaluator'], href: '/static/evaluator.html', key: 'home.links.evaluator', testid: 'go-evaluator' },
  { roles: ['reviewer'], href: '/static/review.html', key: 'home.links.review', testid: 'go-review' },
  { roles: ['centre_admin'], href: '/static/centre.html', key: 'home.links.centre', testid: 'go-centre' },
  { roles: null, href: '/static/mailbox.html', key: 'home.links.mailbox', testid: 'go-mailbox' },
];

/** Fills the `nav` with the pages `role` may open, and shows it. */
export function showLinks(nav, role) {
  const items = PAGES.filter((p) => !p.roles || p.roles.includes(role))
    .map((p) => h('li', {}, h('a', { href: withLang(p.href), dataset: { testid: p.testid } }, t(p.key))));
  nav.querySelector('ul').replaceChildren(...items);
  nav.hidden = false;
}
