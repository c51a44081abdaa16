// Splits a byte stream into lines. A line longer than maxLine is cut and reported as such, so a
// runaway agent cannot make Gantry buffer without bound; a final unterminated line is flushed.
export class LineSplitter {
  private buf = '';

  constructor(
    private readonly onLine: (line: string, truncated: boolean) => void,
    private readonly maxLine = 8 * 1024 * 1024,
  ) {}

  push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      this.onLine(this.buf.slice(0, nl).replace(/\r$/, ''), false);
      this.buf = this.buf.slice(nl + 1);
    }
    if (this.buf.length > this.maxLine) {
      this.onLine(this.buf.slice(0, this.maxLine), true);
      this.buf = '';
    }
  }

  end(): void {
    if (this.buf.length > 0) this.onLine(this.buf, false);
    this.buf = '';
  }
}
