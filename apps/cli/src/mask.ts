/** Values shorter than this show as "(set)": four characters of a short value give too much away. */
const PREFIX_MIN_LENGTH = 12;

/** Seed 003: show "(set)" or the first 4 characters followed by "***", never the value. */
export function mask(value: string | null | undefined): string {
  if (value === null || value === undefined) return '(hidden)';
  if (value === '') return '(empty)';
  if (value.length < PREFIX_MIN_LENGTH) return '(set)';
  return `${[...value].slice(0, 4).join('')}***`;
}
