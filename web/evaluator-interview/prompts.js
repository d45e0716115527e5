// The guide's three parts with prompts for the candidate's level
// (GET /api/v1/interviews/{id}/prompts): introduction questions, a role play (its
// situation) and a discussion (its topic). "Autre sujet" asks for the next draw
// (?seed=n+1); the draw in use is kept for the tab, so a reload shows the same prompts.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';

const TITLE_KEYS = { introduction: 'room.prompts.introduction', role_play: 'room.prompts.role_play', discussion: 'room.prompts.discussion' };

const promptText = (p) => (typeof p === 'string' ? p : p?.text ?? p?.prompt ?? '');

function partSection(part, index) {
  const name = String(part.part ?? index);
  const titleId = `prompts-${name}-title`;
  const title = part.title || (TITLE_KEYS[name] ? t(TITLE_KEYS[name]) : name);
  const prompts = (Array.isArray(part.prompts) ? part.prompts : []).map(promptText).filter(Boolean);
  return h('section', { class: `prompt-part part-${name}`, 'aria-labelledby': titleId, dataset: { testid: `prompts-${name}` } },
    h('h3', { id: titleId }, `${index + 1}. ${title}`),
    part.situation ? h('p', { class: 'situation' }, h('strong', {}, t('room.prompts.situation')), ' ', part.situation) : null,
    part.topic ? h('p', { class: 'topic' }, h('strong', {}, t('room.prompts.topic')), ' ', part.topic) : null,
    prompts.length ? h('ul', { class: 'prompt-list' }, prompts.map((p) => h('li', {}, p))) : null);
}

/** Wires the prompts block of interview `room`; returns `load()` for the first draw. */
export function createPrompts(room) {
  const $ = (id) => document.getElementById(id);
  const box = $('prompts');
  const next = $('next-prompts');
  const status = $('prompts-status');
  const storeKey = `langcert.room.${room}.seed`;
  let seed = Number(sessionStorage.getItem(storeKey)) || 0;
  let busy = false;

  function say(kind, text) {
    status.className = `form-status ${kind}`;
    status.textContent = text;
  }

  async function load(n, changing) {
    if (busy) return;
    busy = true;
    next.setAttribute('aria-disabled', 'true');
    box.setAttribute('aria-busy', 'true');
    if (changing) say('', t('room.prompts.loading'));
    const path = `/api/v1/interviews/${encodeURIComponent(room)}/prompts${n ? `?seed=${n}` : ''}`;
    const res = await api('GET', path).catch(() => null);
    busy = false;
    next.removeAttribute('aria-disabled');
    box.removeAttribute('aria-busy');
    if (!res?.ok || !Array.isArray(res.data?.parts)) {
      say('error', !res ? t('journey.network') : `${t('room.prompts.failed')} ${res.message ?? ''}`.trim());
      return;
    }
    seed = Number.isInteger(res.data.seed) ? res.data.seed : n;
    sessionStorage.setItem(storeKey, String(seed));
    $('prompts-level').textContent = res.data.level ? tf('room.prompts.level', { level: res.data.level }) : '';
    box.dataset.seed = String(seed);
    box.replaceChildren(...res.data.parts.map(partSection));
    say(changing ? 'ok' : '', changing ? t('room.prompts.changed') : '');
  }

  next.addEventListener('click', () => load(seed + 1, true));
  return { load: () => load(seed, false) };
}
