// `when:` conditions — a tiny, total language over earlier steps' outputs:
//   "plan.risky"            truthy        "!plan.risky"           falsy
//   "review.score >= 0.9"   comparison    "plan.kind == 'docs'"   equality with a literal
// Parsed at load (so a typo fails validation), evaluated purely at run time.
export type WhenOp = '==' | '!=' | '>' | '>=' | '<' | '<=';
export interface WhenExpr {
  step: string;
  path: string[];
  negate: boolean;
  op: WhenOp | null;
  value: unknown;
}

const EXPR = /^\s*(!?)\s*([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*)*)\s*(?:(==|!=|>=|<=|>|<)\s*(.+?))?\s*$/;

export function parseWhen(text: string): WhenExpr | { error: string } {
  const m = EXPR.exec(text);
  if (!m) return { error: `cannot read condition "${text}" (write e.g. "plan.risky", "!plan.risky" or "review.score >= 0.9")` };
  const [, bang, step, rest, op, lit] = m;
  if (bang && op) return { error: `"${text}": use either ! or a comparison, not both` };
  const path = (rest ?? '').split('.').filter(Boolean);
  let value: unknown = null;
  if (op) {
    const l = (lit ?? '').trim();
    if (/^-?\d+(\.\d+)?$/.test(l)) value = Number(l);
    else if (l === 'true' || l === 'false') value = l === 'true';
    else if (l === 'null') value = null;
    else if (/^'.*'$|^".*"$/.test(l)) value = l.slice(1, -1);
    else if (/^[\w.-]+$/.test(l)) value = l;
    else return { error: `"${text}": cannot read the value ${l}` };
  }
  return { step: step!, path, negate: bang === '!', op: (op as WhenOp | undefined) ?? null, value };
}

/** Facts a condition sees: each earlier step's state and output. */
export type StepFacts = Readonly<Record<string, { state: string; output: Record<string, unknown> | null }>>;

export function evaluateWhen(expr: WhenExpr, facts: StepFacts): boolean {
  const f = facts[expr.step];
  let cur: unknown = f ? { state: f.state, ...(f.output ?? {}) } : undefined;
  for (const k of expr.path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  if (expr.op === null) return expr.negate ? !cur : Boolean(cur);
  const v = expr.value;
  switch (expr.op) {
    case '==':
      return cur === v;
    case '!=':
      return cur !== v;
    default: {
      if (typeof cur !== 'number' || typeof v !== 'number') return false;
      return expr.op === '>' ? cur > v : expr.op === '>=' ? cur >= v : expr.op === '<' ? cur < v : cur <= v;
    }
  }
}
