// The six CEFR levels, lowest first, and the ids of the five oral criteria.
export const LEVELS = ['A1', 'A2', 'B1', 'B2', 'C1', 'C2'];
export const CRITERIA = ['vocabulary_range', 'grammar', 'fluency', 'pronunciation', 'interaction'];
