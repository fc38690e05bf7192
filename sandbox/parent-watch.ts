/**
 * Preloaded (`node --import`) into every Node child the sandbox starts: when the supervisor
 * dies without stopping its children (kill -9, a crashed terminal), the IPC channel closes and
 * the child stops itself, so nothing is orphaned. SIGTERM first so the child's own graceful path
 * runs (a fake service deregisters, a gateway closes its listeners); a hard exit if that hangs.
 */
if (process.channel) {
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 5000).unref();
  });
  // The channel must not keep the child alive on its own: a gateway that closes its servers on
  // SIGTERM expects its event loop to drain.
  process.channel.unref();
}
