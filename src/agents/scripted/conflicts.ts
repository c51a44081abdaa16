// Resolving git conflict markers in a file's text by a fixed strategy. Pure.
export type ConflictStrategy = 'ours' | 'theirs' | 'union';

/** Returns the resolved text, or null when the text has no (well-formed) conflict. */
export function resolveConflictText(text: string, strategy: ConflictStrategy): string | null {
  const lines = text.split('\n');
  const out: string[] = [];
  let state: 'plain' | 'ours' | 'base' | 'theirs' = 'plain';
  let ours: string[] = [];
  let theirs: string[] = [];
  let found = false;
  for (const line of lines) {
    if (state === 'plain' && line.startsWith('<<<<<<<')) {
      state = 'ours';
      ours = [];
      theirs = [];
    } else if (state === 'ours' && line.startsWith('|||||||')) state = 'base';
    else if ((state === 'ours' || state === 'base') && line.startsWith('=======')) state = 'theirs';
    else if (state === 'theirs' && line.startsWith('>>>>>>>')) {
      found = true;
      state = 'plain';
      if (strategy === 'ours') out.push(...ours);
      else if (strategy === 'theirs') out.push(...theirs);
      else out.push(...ours, ...theirs.filter((l) => !ours.includes(l)));
    } else if (state === 'ours') ours.push(line);
    else if (state === 'theirs') theirs.push(line);
    else if (state === 'plain') out.push(line);
  }
  return found && state === 'plain' ? out.join('\n') : null;
}
