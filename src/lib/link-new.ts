// Create a name only if it is free, whole: hard-link an already written file to it. `link` fails
// with EEXIST rather than replacing, so of racing creators exactly one wins, and a reader never
// sees a half-written file.
import { link } from 'node:fs/promises';

/** True when `path` was created as a link to `src`; false when the name was taken. */
export async function linkNew(src: string, path: string): Promise<boolean> {
  try {
    await link(src, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
