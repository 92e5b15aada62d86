/**
 * How nats-server's monitoring JSON writes times, so tools written for it read ours:
 * Go's time.Time marshals as RFC 3339 (we give milliseconds, UTC), and durations shown to
 * people use monitor.go's `myUptime` form (`1d2h3m4s`).
 */

/** An epoch-milliseconds time as Go's time.Time JSON (RFC 3339, UTC). */
export function goTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** monitor.go myUptime: whole seconds, as `4s`, `3m4s`, `2h3m4s`, `1d2h3m4s`, `1y1d2h3m4s`. */
export function goUptime(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  const s = seconds % 60;
  const m = minutes % 60;
  const h = hours % 24;
  if (years > 0) return `${years}y${days % 365}d${h}h${m}m${s}s`;
  if (days > 0) return `${days}d${h}h${m}m${s}s`;
  if (hours > 0) return `${hours}h${m}m${s}s`;
  if (minutes > 0) return `${minutes}m${s}s`;
  return `${seconds}s`;
}
