// The evaluator's waiting list: who knocked (name, appointment, waiting since, page
// connected or not), with Admettre / Refuser (a reason is required: the candidate reads
// it) and, once admitted, Retirer. The server's `waiting_list` holds only those who
// wait; an admitted candidate leaves it, so this page keeps their line itself (kept in
// sessionStorage so a reload of the console still shows who is in the interview).
// Lines are updated in place, so an open form and the focus survive each new list.
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { fmtDate, fmtTime, isoDate } from '../time.js';

const REFRESH_MS = 10000;

function appointment(iso) {
  const d = new Date(iso ?? '');
  if (Number.isNaN(d.getTime())) return '';
  return isoDate(d) === isoDate(new Date()) ? fmtTime(d) : `${fmtDate(d)} ${fmtTime(d)}`;
}

/** "En attente depuis 3 min" from an RFC 3339 instant. */
export function waitingSince(iso, now = Date.now()) {
  const at = Date.parse(iso ?? '');
  if (Number.isNaN(at)) return '';
  const minutes = Math.floor(Math.max(0, now - at) / 60000);
  if (minutes < 1) return t('room.waiting.since_now');
  if (minutes < 60) return tf('room.waiting.since_min', { n: minutes });
  return tf('room.waiting.since_hours', { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, '0') });
}

/**
 * Manages the list `ul` (and the `empty` paragraph) of room `room`. `actions` sends:
 * `admit(id)`, `deny(id, reason)`, `remove(id)`, each returning false when the
 * connection is down. Returns `{ update(list), failed(), setOnline(bool), waitingCount() }`;
 * `update` resolves to the lines that are new.
 */
export function createWaitingList(ul, empty, room, actions) {
  const storeKey = `langcert.room.${room}.admitted`;
  const rows = new Map(); // candidate id → row
  let admitted = readAdmitted(); // candidate id → name
  let pending = null; // { kind, id } of the last action sent
  let online = false;
  let denyOpen = null; // the row whose deny form is open

  function readAdmitted() {
    try {
      return new Map(JSON.parse(sessionStorage.getItem(storeKey) ?? '[]'));
    } catch {
      return new Map();
    }
  }
  function saveAdmitted() {
    sessionStorage.setItem(storeKey, JSON.stringify([...admitted]));
  }

  function makeRow(id) {
    const name = h('strong', { class: 'entry-name' });
    const when = h('span', { class: 'entry-when' });
    const since = h('span', { class: 'entry-since' });
    const presence = h('span', { class: 'entry-presence' });
    const admit = h('button', { type: 'button', class: 'small', dataset: { testid: `admit-${id}` } }, t('room.waiting.admit'));
    const deny = h('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false', dataset: { testid: `deny-${id}` } }, t('room.waiting.deny'));
    const remove = h('button', { type: 'button', class: 'secondary small danger', hidden: true, dataset: { testid: `remove-${id}` } }, t('room.waiting.remove'));
    const formBox = h('div', { class: 'deny-box' });
    const li = h('li', { class: 'waiting-entry', dataset: { testid: `waiting-${id}`, candidate: id } },
      h('p', { class: 'entry-head' }, name, ' ', presence),
      h('p', { class: 'entry-meta' }, when, since),
      h('p', { class: 'entry-actions' }, admit, deny, remove),
      formBox);
    const row = { id, li, name, when, since, presence, admit, deny, remove, formBox, data: null, standing: 'waiting' };
    admit.addEventListener('click', () => act(row, 'admit'));
    deny.addEventListener('click', () => (denyOpen === row ? closeDeny(true) : openDeny(row)));
    remove.addEventListener('click', () => act(row, 'remove'));
    return row;
  }

  function fill(row) {
    const d = row.data;
    const label = d.name || tf('room.waiting.unnamed', { id: row.id.slice(0, 8) });
    row.name.textContent = label;
    row.li.dataset.standing = row.standing;
    row.li.dataset.connected = String(row.standing === 'waiting' ? d.connected !== false : true);
    row.admit.setAttribute('aria-label', tf('room.waiting.admit_label', { name: label }));
    row.deny.setAttribute('aria-label', tf('room.waiting.deny_label', { name: label }));
    row.remove.setAttribute('aria-label', tf('room.waiting.remove_label', { name: label }));
    const at = appointment(d.scheduled_at);
    row.when.textContent = at ? tf('room.waiting.appointment', { time: at }) : '';
    if (row.standing === 'admitted') {
      row.since.textContent = '';
      row.presence.textContent = t('room.waiting.in_interview');
      row.presence.className = 'entry-presence ok';
    } else {
      row.since.textContent = waitingSince(d.since);
      row.presence.textContent = d.connected === false ? t('room.waiting.disconnected') : t('room.waiting.connected');
      row.presence.className = `entry-presence ${d.connected === false ? 'error' : 'ok'}`;
    }
    const waiting = row.standing === 'waiting';
    row.admit.hidden = !waiting;
    row.deny.hidden = !waiting;
    row.remove.hidden = waiting;
    if (!waiting && denyOpen === row) closeDeny(false);
    enable(row);
  }

  function enable(row) {
    const busy = pending?.id === row.id && pending.kind !== 'admit';
    for (const b of [row.admit, row.deny, row.remove]) {
      b.disabled = !online;
      if (busy) b.setAttribute('aria-disabled', 'true');
      else b.removeAttribute('aria-disabled');
    }
  }

  function act(row, kind) {
    if ((pending?.id === row.id && pending.kind !== 'admit') || !online) return;
    if (!actions[kind](row.id)) return;
    pending = { kind, id: row.id };
    if (kind === 'admit') {
      // Shown as admitted at once; an `error` reply puts the line back (failed()).
      admitted.set(row.id, row.data?.name ?? '');
      saveAdmitted();
      row.standing = 'admitted';
      const hadFocus = row.li.contains(document.activeElement);
      fill(row);
      if (hadFocus) row.remove.focus();
    } else if (kind === 'remove') {
      admitted.delete(row.id);
      saveAdmitted();
      pending = null;
      drop(row);
    }
  }

  function openDeny(row) {
    closeDeny(false);
    denyOpen = row;
    const label = row.name.textContent;
    const reason = h('textarea', { id: 'deny-reason', rows: 2, required: true, 'aria-describedby': 'deny-hint', dataset: { testid: 'deny-reason' } });
    const hint = h('p', { id: 'deny-hint', class: 'hint' }, t('room.deny.hint'));
    const problem = h('p', { class: 'error', role: 'alert', dataset: { testid: 'deny-problem' } });
    const confirm = h('button', { type: 'submit', class: 'small', dataset: { testid: 'deny-confirm' } }, t('room.deny.confirm'));
    const cancel = h('button', { type: 'button', class: 'secondary small', dataset: { testid: 'deny-cancel' } }, t('room.deny.cancel'));
    const form = h('form', { class: 'form deny-form', novalidate: true, 'aria-label': tf('room.deny.form_label', { name: label }), dataset: { testid: 'deny-form' } },
      h('label', { for: 'deny-reason' }, t('room.deny.reason')), reason, hint, problem,
      h('p', { class: 'button-row' }, confirm, cancel));
    reason.addEventListener('input', () => {
      reason.removeAttribute('aria-invalid');
      problem.textContent = '';
    });
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        closeDeny(true);
      }
    });
    cancel.addEventListener('click', () => closeDeny(true));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        reason.setAttribute('aria-invalid', 'true');
        problem.textContent = t('room.deny.required');
        reason.focus();
        return;
      }
      if (!online || !actions.deny(row.id, text)) {
        problem.textContent = t('room.offline_action');
        return;
      }
      pending = { kind: 'deny', id: row.id };
      confirm.setAttribute('aria-disabled', 'true');
      enable(row);
    });
    row.formBox.replaceChildren(form);
    row.deny.setAttribute('aria-expanded', 'true');
    row.deny.setAttribute('aria-controls', 'deny-reason');
    reason.focus();
  }

  function closeDeny(focusBack) {
    const row = denyOpen;
    if (!row) return;
    denyOpen = null;
    row.formBox.replaceChildren();
    row.deny.setAttribute('aria-expanded', 'false');
    row.deny.removeAttribute('aria-controls');
    if (focusBack) row.deny.focus();
  }

  function drop(row) {
    const hadFocus = row.li.contains(document.activeElement);
    if (denyOpen === row) denyOpen = null;
    row.li.remove();
    rows.delete(row.id);
    if (pending?.id === row.id) pending = null;
    showEmpty();
    if (hadFocus) {
      const next = ul.querySelector('button:not([hidden])');
      if (next) next.focus();
      else focusStatic(document.getElementById('waiting-title'));
    }
  }

  function showEmpty() {
    empty.hidden = rows.size > 0;
  }

  function update(list) {
    const fresh = [];
    const seen = new Set();
    const entries = Array.isArray(list) ? list : [];
    for (const d of entries) {
      if (!d || typeof d.candidate !== 'string') continue;
      seen.add(d.candidate);
      let row = rows.get(d.candidate);
      if (!row) {
        row = makeRow(d.candidate);
        rows.set(d.candidate, row);
        fresh.push(d);
      }
      row.data = d;
      const flag = d.standing ?? d.state ?? (d.admitted === true ? 'admitted' : null);
      const admitSent = pending?.kind === 'admit' && pending.id === d.candidate;
      if (flag === 'admitted' || (admitSent && flag !== 'waiting')) {
        // Admitted (or the admission just sent is not through yet).
        row.standing = 'admitted';
        admitted.set(d.candidate, d.name ?? '');
      } else {
        // Back in the list: waiting again (admitted and gone too long, or never admitted).
        row.standing = 'waiting';
        admitted.delete(d.candidate);
      }
    }
    // The admission went through once its candidate left the list.
    if (pending?.kind === 'admit' && !seen.has(pending.id)) pending = null;
    // Those admitted are no longer in the list, but still in the interview.
    for (const [id, name] of admitted) {
      if (seen.has(id)) continue;
      seen.add(id);
      let row = rows.get(id);
      if (!row) {
        row = makeRow(id);
        rows.set(id, row);
        row.data = { candidate: id, name };
      }
      row.standing = 'admitted';
    }
    saveAdmitted();
    for (const row of [...rows.values()]) if (!seen.has(row.id)) drop(row);
    // Admitted first, then by arrival as the server lists them.
    const order = [...admitted.keys(), ...entries.map((d) => d?.candidate)].filter((id, i, all) => rows.has(id) && all.indexOf(id) === i);
    order.forEach((id, i) => {
      const row = rows.get(id);
      if (ul.children[i] !== row.li) ul.insertBefore(row.li, ul.children[i] ?? null);
      fill(row);
    });
    showEmpty();
    return fresh;
  }

  setInterval(() => {
    for (const row of rows.values()) if (row.standing === 'waiting' && row.data) row.since.textContent = waitingSince(row.data.since);
  }, REFRESH_MS);
  showEmpty();

  return {
    update,
    /** The server refused the last action: its buttons are usable again. */
    failed() {
      if (!pending) return;
      const row = rows.get(pending.id);
      if (pending.kind === 'admit' && row) {
        admitted.delete(row.id);
        saveAdmitted();
        row.standing = 'waiting';
      }
      pending = null;
      if (row) {
        row.formBox.querySelector('[data-testid="deny-confirm"]')?.removeAttribute('aria-disabled');
        fill(row);
      }
    },
    /** The connection is up (true) or down: the buttons follow. */
    setOnline(value) {
      online = value;
      for (const row of rows.values()) enable(row);
    },
    /** The candidate left the interview for good (removed elsewhere, interview over). */
    forget(id) {
      admitted.delete(id);
      saveAdmitted();
    },
    waitingCount() {
      return [...rows.values()].filter((r) => r.standing === 'waiting').length;
    },
  };
}
