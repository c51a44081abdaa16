// Dependency graph checks, pure. `edges` maps a task id to the ids it waits for.

/** Returns a cycle as a list of ids (first = last) if adding `from → to[]` creates one, else null. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>, from: string, to: readonly string[]): string[] | null {
  const next = (id: string): readonly string[] => (id === from ? to : (edges.get(id) ?? []));
  // DFS from each new target back towards `from`.
  const stack: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string): string[] | null => {
    if (id === from && stack.length > 0) return [from, ...stack];
    if (onPath.has(id) || done.has(id)) return null;
    onPath.add(id);
    stack.push(id);
    for (const n of next(id)) {
      const c = visit(n);
      if (c) return c;
    }
    stack.pop();
    onPath.delete(id);
    done.add(id);
    return null;
  };
  for (const t of to) {
    if (t === from) return [from, from];
    stack.length = 0;
    const c = visit(t);
    if (c) return c;
  }
  return null;
}
