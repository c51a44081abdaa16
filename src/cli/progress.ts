// Progress for long work, always on stderr so stdout stays parseable. On a terminal: one spinner
// line redrawn in place. Elsewhere (pipes, CI logs): one plain line per change of message.
export interface Progress {
  update(text: string): void;
  /** Clears the spinner; prints `final` (if any) as a normal line. */
  done(final?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function progress(text: string, out: NodeJS.WriteStream = process.stderr, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update: () => {}, done: () => {} };
  let current = text;
  if (!out.isTTY) {
    out.write(`${current}\n`);
    return {
      update(t) {
        if (t !== current) out.write(`${(current = t)}\n`);
      },
      done(final) {
        if (final) out.write(`${final}\n`);
      },
    };
  }
  let i = 0;
  const draw = () => out.write(`\r\x1b[2K${FRAMES[i++ % FRAMES.length]} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    update(t) {
      current = t;
      draw();
    },
    done(final) {
      clearInterval(timer);
      out.write('\r\x1b[2K');
      if (final) out.write(`${final}\n`);
    },
  };
}
