// Documents and queries are cut before they enter a prompt, so every prompt fits the model's context.
// Two units: 'words' (whitespace-separated, the unit used in the SPTAR authors' preprocessing) and 'chars'
// (Unicode code points, never splitting a surrogate pair). Either way whitespace runs, newlines included, become
// single spaces: the template's own " \n " separators must stay the only line breaks in a prompt.

export interface LengthLimit {
  readonly unit: 'words' | 'chars';
  readonly max: number;
}

export function truncateText(text: string, limit: LengthLimit): string {
  if (!Number.isInteger(limit.max) || limit.max < 0) throw new RangeError(`length limit must be a non-negative integer, got ${limit.max}`);
  const words = text.split(/\s+/).filter((w) => w !== '');
  switch (limit.unit) {
    case 'words':
      return words.slice(0, limit.max).join(' ');
    case 'chars':
      return Array.from(words.join(' ')).slice(0, limit.max).join('').trimEnd();
  }
}
