/**
 * Bounds the `client_ip` label: the first `limit` distinct addresses get their own series, every
 * later one is counted as "other". A flood of spoofed or distinct addresses therefore cannot grow
 * memory or the scrape without bound.
 */
export const OTHER = 'other';

export class ClientIpLabels {
  private readonly seen = new Set<string>();
  constructor(private readonly limit: number) {}

  label(ip: string): string {
    if (this.seen.has(ip)) return ip;
    if (this.seen.size >= this.limit) return OTHER;
    this.seen.add(ip);
    return ip;
  }
}
