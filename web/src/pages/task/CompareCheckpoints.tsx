// Pick any two checkpoints of the task (or its base) and open the diff between them. Checkpoints
// are sent by sha: the API takes only shas of this task's own checkpoints (or its base).
import { useState } from 'react';
import type { Checkpoint } from '../../api/types.js';
import type { DiffRange } from './DiffView.js';

export function CompareCheckpoints({ list, onCompare }: { list: Checkpoint[]; onCompare(r: DiffRange): void }) {
  const last = list[list.length - 1];
  const [from, setFrom] = useState<string>(list.length > 1 ? list[list.length - 2]!.sha : 'base');
  const [to, setTo] = useState<string>(last?.sha ?? '');
  if (!last) return null;
  const label = (sha: string) => (sha === 'base' ? 'base' : `#${list.find((c) => c.sha === sha)?.seq ?? sha.slice(0, 12)}`);
  const option = (c: Checkpoint) => (
    <option key={c.sha} value={c.sha}>
      #{c.seq}
      {c.step ? ` · ${c.step}` : ''} · {c.reason}
    </option>
  );
  return (
    <form
      className="cp-compare"
      data-testid="compare"
      onSubmit={(e) => {
        e.preventDefault();
        onCompare({ from, to, label: `${label(from)} → ${label(to)}` });
      }}
    >
      <label>
        <span>From</span>
        <select value={from} onChange={(e) => setFrom(e.target.value)}>
          <option value="base">base</option>
          {list.map(option)}
        </select>
      </label>
      <label>
        <span>To</span>
        <select value={to} onChange={(e) => setTo(e.target.value)}>
          {list.map(option)}
        </select>
      </label>
      <button type="submit" disabled={from === to}>
        Compare
      </button>
    </form>
  );
}
