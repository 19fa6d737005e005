/** Reading a /metrics page (Prometheus text format) without a Prometheus server. */

/** The value of one sample in Prometheus text format, or undefined when the series is absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

/** One scrape of a /metrics page: each named (unlabelled) sample, undefined where absent. */
export async function scrape<const N extends string>(
  url: string,
  names: readonly N[],
): Promise<Record<N, number | undefined>> {
  const text = await (await fetch(url)).text();
  return Object.fromEntries(names.map((name) => [name, sample(text, name)])) as Record<N, number | undefined>;
}
