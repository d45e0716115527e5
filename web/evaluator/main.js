// The evaluator's console: their interviews (today, upcoming, past) with the oral
// scoring form of each, and the editor of their weekly availability.
import { translate } from '../i18n.js';
import { showAvailability } from './availability.js';
import { showInterviews } from './interviews.js';

translate();
await Promise.all([
  showInterviews(document.getElementById('interviews')),
  showAvailability(document.getElementById('availability')),
]);
