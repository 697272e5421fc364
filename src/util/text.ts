/** Small text helpers shared by parsers and renderers. */

/** Shortens `text` to at most `max` characters, marking the cut with an ellipsis. */
export function clip(text: string, max: number, ellipsis = '...'): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - ellipsis.length))}${ellipsis}` : text;
}

/** JSON-quotes a value for a problem sentence, shortened so one bad line cannot flood a report. */
export function quote(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Strips one pair of surrounding quotes ("…" or '…'), as systemd and env-style files do. */
export function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) return v.slice(1, -1);
  return v;
}
