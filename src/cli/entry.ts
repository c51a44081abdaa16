// The process entry of `gantry` (bin/gantry.js runs its compiled form from dist/). `--version`
// answers before the command line is even loaded; everything else goes through main.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { VERSION } = await import('../app/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  // `gantry ls | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const { main } = await import('./main.js');
  await main(process.argv);
}
